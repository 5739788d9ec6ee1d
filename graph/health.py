"""Operations endpoints: `/health` and `/metrics`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from graph.services import Services


async def health(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(
        {
            "status": "ok",
            "chains": [c.id for c in services.registry],
            "cache": {"healthy": services.cache.healthy},
        }
    )


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return PlainTextResponse(
        services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
