"""Operations endpoints: liveness, readiness with each chain's state, and `/metrics`.

- `/health/live`: the process answers (for restarts). No I/O, always 200.
- `/health/ready` (and `/health`): whether to send traffic to this replica. It is ready (200)
  while the process serves and its key store answers (the only I/O here: one ping of the
  SQLite file or Redis); without the store no keyed request can be admitted. Chains are
  reported, not judged: a dead upstream is the same dead upstream for every replica, and
  taking them all out of the load balancer would turn one chain's outage into everyone's.
  `[server] ready_requires_chains = true` makes "no chain can be read" a 503 too.

A chain is `up` when every endpoint's circuit is closed, `degraded` when some are not, `down`
when none is. Each worker has its own circuits, so with several workers the states come
from the metrics files they all write (`endpoint_state`, `cache_backend_state`: the value
any worker set last): every worker of a replica gives the same answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.metrics import CONTENT_TYPE, Labels
from graph.services import Services
from metering.store import StoreUnavailable

STORE_PING_TIMEOUT = 1.0
"""Seconds the key store has to answer readiness's ping."""
_STATES = {0: "closed", 1: "half-open", 2: "open"}


async def live(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def ready(request: Request) -> Response:
    services: Services = request.app.state.services
    chains = _chain_states(services)
    states = {c["state"] for c in chains.values()}
    metering = await _store_answers(services)
    no_chain = states == {"down"} and services.settings.server.ready_requires_chains
    if not metering or no_chain:
        status, code = "unavailable", 503
    elif states == {"up"} and _cache_healthy(services):
        status, code = "ready", 200
    else:
        status, code = "degraded", 200
    body = {
        "status": status,
        "chains": chains,
        "metering": {"healthy": metering},
        "cache": {"healthy": _cache_healthy(services)},
    }
    return JSONResponse(body, status_code=code, headers={"cache-control": "no-store"})


def _chain_states(services: Services) -> dict[str, dict[str, Any]]:
    """Each chain's endpoints: what any worker learned last, else what this one knows."""
    shared = services.metrics.latest("endpoint_state") or {}
    chains = {}
    for chain in services.registry:
        own = chain.provider.endpoint_states()  # also makes this worker's due transitions
        endpoints = {
            label: _STATES.get(int(value), state)
            if (value := shared.get(_labels(chain.id, label))) is not None
            else state
            for label, state in own.items()
        }
        chains[chain.id] = _chain_state(endpoints)
    return chains


def _labels(chain: str, endpoint: str) -> Labels:
    return frozenset({("chain", chain), ("endpoint", endpoint)})


def _chain_state(endpoints: dict[str, str]) -> dict[str, Any]:
    closed = sum(1 for state in endpoints.values() if state == "closed")
    state = "up" if closed == len(endpoints) else "down" if closed == 0 else "degraded"
    return {"state": state, "endpoints": endpoints}


def _cache_healthy(services: Services) -> bool:
    shared = services.metrics.latest("cache_backend_state")
    if services.redis is None or not shared:
        return services.redis_breaker.healthy
    return all(value == 0 for value in shared.values())


async def _store_answers(services: Services) -> bool:
    try:
        await asyncio.wait_for(services.pipeline.meter.store.ping(), STORE_PING_TIMEOUT)
    except (StoreUnavailable, TimeoutError):
        return False
    return True


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)
