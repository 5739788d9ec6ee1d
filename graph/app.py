"""The Starlette application: `/graphql` (GraphiQL in a browser), `/health`, `/metrics`.

Everything with a connection (the shared `httpx.AsyncClient`, the Redis client) is opened in
the lifespan and closed on shutdown; nothing is created at import time.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chains.cache.base import Cache
from chains.cache.memory import MemoryCache
from chains.cache.redis import RedisCache
from chains.cache.resilient import ResilientCache
from chains.metrics import Metrics
from chains.registry import ChainRegistry, build_registry
from chains.tokens.spam import SpamPolicy
from graph.context import Context
from graph.graphiql import GraphiQL
from graph.http import GraphQLEndpoint
from graph.limits import BodySizeLimit
from graph.schema import build_schema
from loaders.context import build_loaders
from prices.build import build_price_reader
from prices.reader import PriceReader
from resolvers.scope import CacheHints, RequestScope
from settings import Settings, load_settings

log = logging.getLogger("balance_graph")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Services:
    """What the lifespan opened, shared by every request of this process."""

    settings: Settings
    registry: ChainRegistry
    prices: PriceReader
    spam: SpamPolicy
    metrics: Metrics
    cache: ResilientCache


async def _context(request: Request) -> Context:
    services: Services = request.app.state.services
    settings = services.settings
    scope = RequestScope(
        registry=services.registry,
        loaders=build_loaders(services.registry, services.prices),
        limits=settings.limits,
        default_max_age=settings.cache.default_max_age,
        spam=services.spam,
        hints=CacheHints(settings.cache.default_max_age, settings.prices.cache_ttl),
    )
    return Context(scope=scope, request_id=request.state.request_id)


def _apq_store(request: Request) -> Cache:
    services: Services = request.app.state.services
    return services.cache


class RequestIdMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` if sane) and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    graphiql: GraphiQL | None = None,
) -> Starlette:
    """The ASGI app; without `settings`, read the file named by `BALANCE_GRAPH_CONFIG`.

    `transport` replaces the network under the shared HTTP client (tests route hosts that
    cannot run here, such as Esplora or a Starknet node, to spec-shaped fakes). `graphiql`
    sets the explorer's example queries (the demo fills in its own addresses).
    """
    if settings is None:
        path = os.environ.get("BALANCE_GRAPH_CONFIG")
        settings = load_settings(Path(path) if path else None, os.environ)
    resolved = settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        metrics = Metrics()
        http = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            timeout=httpx.Timeout(10.0, connect=3.0),
            follow_redirects=False,
            transport=transport,
        )
        cache = ResilientCache(
            _cache_backend(resolved), "redis" if resolved.cache.redis_url else "memory"
        )
        try:
            registry = build_registry(resolved, http, cache, metrics)
            prices = build_price_reader(resolved, registry, http, cache, metrics)
            app.state.services = Services(
                resolved, registry, prices, SpamPolicy(resolved.spam), metrics, cache
            )
            log.info(
                "serving %d chains (%s) with the %s cache",
                len(registry),
                ", ".join(c.id for c in registry),
                "redis" if resolved.cache.redis_url else "in-process",
            )
            yield
        finally:
            await http.aclose()
            await cache.close()

    explorer = graphiql or GraphiQL()
    graphql = GraphQLEndpoint(
        build_schema(resolved.limits), resolved.limits, _context, _apq_store, explorer.page
    )
    routes = [
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        *explorer.routes(),
        Route("/health", _health, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(resolved.server.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=[
            "content-type",
            "authorization",
            "x-api-key",
            "x-request-id",
            "apollographql-client-name",
            "apollographql-client-version",
            "apollo-require-preflight",
        ],
        expose_headers=["x-request-id"],
        max_age=600,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def _cache_backend(settings: Settings) -> Cache:
    if settings.cache.redis_url is not None:
        return RedisCache.from_url(settings.cache.redis_url)
    return MemoryCache(settings.cache.memory_max_entries)


async def _health(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(
        {
            "status": "ok",
            "chains": [c.id for c in services.registry],
            "cache": {"healthy": services.cache.healthy},
        }
    )


async def _metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    return PlainTextResponse(
        services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
