"""Operations endpoints: liveness, readiness with each chain's state, and `/metrics`.

- `/health/live`: the process answers (for restarts). No I/O, always 200.
- `/health/ready` (and `/health`): whether to send traffic here, from what the process has
  learned of its upstreams (no I/O of its own). A chain is `up` when every endpoint's circuit
  is closed, `degraded` when some are not, `down` when none is; the service is `ready` when
  every chain is up, `degraded` (still 200: the others are served) when some are not, and
  `unavailable` (503) when no chain can be read at all.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.metrics import CONTENT_TYPE
from graph.services import Services


async def live(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def ready(request: Request) -> Response:
    services: Services = request.app.state.services
    chains = {
        chain.id: _chain_state(chain.provider.endpoint_states()) for chain in services.registry
    }
    states = {c["state"] for c in chains.values()}
    if states == {"up"}:
        status, code = "ready", 200
    elif states == {"down"}:
        status, code = "unavailable", 503
    else:
        status, code = "degraded", 200
    body = {
        "status": status,
        "chains": chains,
        "cache": {"healthy": services.redis_breaker.healthy},
    }
    return JSONResponse(body, status_code=code, headers={"cache-control": "no-store"})


def _chain_state(endpoints: dict[str, str]) -> dict[str, Any]:
    closed = sum(1 for state in endpoints.values() if state == "closed")
    state = "up" if closed == len(endpoints) else "down" if closed == 0 else "degraded"
    return {"state": state, "endpoints": endpoints}


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)
