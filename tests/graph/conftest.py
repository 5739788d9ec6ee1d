"""The whole service offline: Starknet and Bitcoin chains on the spec-shaped fakes, no anvil.

`offline` serves the real app (lifespan, middleware, schema, loaders, readers, providers) with
its HTTP client routed to `tests.fakes`, so HTTP- and GraphQL-level behaviour is tested in
milliseconds; tests that need EVM semantics use the anvil-backed `api` fixture instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from settings import Settings, parse_settings
from tests.conftest import UNLIMITED, Api, serve
from tests.fakes import esplora
from tests.fakes import starknet as stark

STRK_USD, BTC_USD = "0.5", "90000"


class Router(httpx.AsyncBaseTransport):
    """Each fake host to its fake; any other host is a test bug."""

    def __init__(self, fakes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.fakes = fakes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.fakes.get(request.url.host)
        if transport is None:
            raise AssertionError(f"the offline service must not reach {request.url.host}")
        return await transport.handle_async_request(request)


@dataclass
class Offline:
    api: Api
    node: stark.Node
    esplora: esplora.FakeEsplora


def offline_settings(tmp_path: Path, **sections: Any) -> Settings:
    chains = {
        "starknet": {
            "family": "starknet",
            "rpc_urls": [stark.URL],
            "native": {"symbol": "STRK", "name": "Starknet Token", "decimals": 18},
        },
        "bitcoin": {
            "family": "bitcoin",
            "rpc_urls": ["https://esplora.example/api"],
            "native": {"symbol": "BTC", "name": "Bitcoin", "decimals": 8},
        },
    }
    prices = {
        "sources": ["static"],
        "static": {"starknet:native": STRK_USD, "bitcoin:native": BTC_USD},
    }
    raw = {"chains": chains, "prices": prices, "rate_limits": UNLIMITED, **sections}
    return parse_settings(raw, base_dir=tmp_path, environ={})


def offline_service(
    settings: Settings,
    node: stark.Node | None = None,
    peer: tuple[str, int] = ("testclient", 50000),
) -> Iterator[Offline]:
    """The app on `settings`, Starknet on `node` (default: the fake's mainnet), Esplora fake."""
    node = node or stark.mainnet()
    fake = esplora.FakeEsplora(
        wallets={esplora.P2TR: (esplora.stats(funded=150_000_000), esplora.stats())}
    )
    router = Router(
        {
            "starknet.example": httpx.MockTransport(node.handler),
            "esplora.example": esplora.transport({"esplora.example": fake}),
        }
    )
    for api in serve(settings, router, peer):
        yield Offline(api, node, fake)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Offline]:
    yield from offline_service(offline_settings(tmp_path))


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what `logging.config.dictConfig(log_config(...))` does to the process."""
    root = logging.getLogger()
    names = ("httpx", "httpcore", "uvicorn")
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
