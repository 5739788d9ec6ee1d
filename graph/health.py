"""Operations endpoints: `/health` and `/metrics`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chains.metrics import CONTENT_TYPE
from graph.services import Services


async def health(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(
        {
            "status": "ok",
            "chains": [c.id for c in services.registry],
            "cache": {"healthy": services.redis_breaker.healthy},
        }
    )


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)
