"""The Starlette application: `/graphql` (GraphiQL in a browser; subscriptions over WebSocket
or multipart HTTP), `/health`, `/metrics`, and `/` pointing to them.

Everything with a connection (the upstream HTTP client, the Redis client) is opened in the
lifespan (`graph.services`) and closed on shutdown; nothing is created at import time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from graph.http import health
from graph.http.body_limit import BodySizeLimit
from graph.http.endpoint import GraphQLEndpoint, Pipeline
from graph.http.middleware import ResponseHeadersMiddleware
from graph.pages.graphiql import GraphiQL
from graph.pages.index import Index
from graph.pages.wallet import WalletPage
from graph.services import Services, open_services
from graph.streams.multipart import multipart_handler
from graph.streams.opening import Streams
from graph.streams.socket import SocketEndpoint
from metering.meter import RESPONSE_HEADERS
from settings import CONFIG_ENV, Settings, load_settings

__all__ = ["Services", "create_app"]

log = logging.getLogger("balance_graph")


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    graphiql: GraphiQL | None = None,
    wallet: WalletPage | None = None,
) -> Starlette:
    """The ASGI app; without `settings`, read the file named by `BALANCE_GRAPH_CONFIG`.

    `transport` replaces the network under the upstream HTTP client (tests route hosts that
    cannot run here, such as Esplora or a Starknet node, to spec-shaped fakes). `graphiql`
    sets the explorer's example queries (the demo fills in its own addresses); `wallet`, the
    wallet page's files (tests point it at a vendored copy).
    """
    if settings is None:
        path = os.environ.get(CONFIG_ENV)
        settings = load_settings(Path(path) if path else None, os.environ)
    resolved = settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = open_services(resolved, transport)
        app.state.services = services
        log.info("%s", services.describe())
        try:
            yield
        finally:
            await services.close()

    app = Starlette(
        routes=_routes(graphiql or GraphiQL(), wallet or WalletPage()), lifespan=lifespan
    )
    _guard(app, resolved)
    return app


def _guard(app: Starlette, settings: Settings) -> None:
    """The middleware every response passes: body limit, CORS, the common headers."""
    app.add_middleware(BodySizeLimit)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.server.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=[
            "content-type",
            "authorization",
            "api-key",
            "x-api-key",
            "x-request-id",
            "apollographql-client-name",
            "apollographql-client-version",
            "apollo-require-preflight",
        ],
        expose_headers=["x-request-id", *RESPONSE_HEADERS],
        max_age=600,
    )
    app.add_middleware(ResponseHeadersMiddleware)


def _routes(explorer: GraphiQL, wallet: WalletPage) -> list[BaseRoute]:
    graphql = GraphQLEndpoint(_pipeline, explorer.page, multipart_handler(_streams))
    return [
        Route("/", Index().page, methods=["GET"]),
        Route("/graphql", graphql.handle, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", SocketEndpoint(_socket_streams).handle),
        *explorer.routes(),
        *wallet.routes(),
        Route("/health", health.ready, methods=["GET"]),
        Route("/health/live", health.live, methods=["GET"]),
        Route("/health/ready", health.ready, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
    ]


def _pipeline(request: Request) -> Pipeline:
    services: Services = request.app.state.services
    return services.pipeline


def _streams(request: Request) -> Streams:
    services: Services = request.app.state.services
    return services.streams


def _socket_streams(websocket: WebSocket) -> Streams:
    services: Services = websocket.app.state.services
    return services.streams
