"""Real parts for the tests: an anvil devnet with sample tokens, and a redis-server.

Both start on free loopback ports, once per session, and are stopped at the end.

Every test that uses them (directly or through other fixtures) is marked `integration`, as
are modules that start processes themselves, so `pytest -m "not integration"` runs the unit
tests in seconds without anvil, Redis, Node or Chromium. Starting one of those parts from a
test that is not marked fails loudly instead of silently slowing the fast run down.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from devnet.anvil import Anvil, find_free_port
from devnet.chain import DevChain
from devnet.sample import SampleDeployment, deploy_sample_tokens
from graph.app import Services, create_app
from settings import Settings, parse_settings

CHAIN_ID = 31337

INTEGRATION_FIXTURES = frozenset({"devnet", "redis_url"})
"""Fixtures that start real processes: a test using any of them is an integration test."""

_running: list[pytest.Item] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs anvil or Redis, directly or through other fixtures."""
    for item in items:
        if INTEGRATION_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Remember which test is running, so starting a real part can check its marker."""
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def require_integration(what: str) -> None:
    """Fail the running test unless it is marked `integration` (it is about to start `what`).

    Tests that name `devnet` or `redis_url` are marked automatically; this catches the others:
    a fixture requested dynamically (`request.getfixturevalue`), a process started by hand.
    """
    item = _running[-1] if _running else None
    if item is not None and item.get_closest_marker("integration") is None:
        pytest.fail(
            f"{item.nodeid} starts {what} but is not marked integration: set "
            "`pytestmark = pytest.mark.integration` in its module, or mark the parameter "
            "that needs it with pytest.param(..., marks=pytest.mark.integration)",
            pytrace=False,
        )


@dataclass(frozen=True)
class Devnet:
    """The session's anvil with the sample tokens and a few misbehaving contracts."""

    anvil: Anvil
    chain: DevChain
    sample: SampleDeployment
    no_decimals: str
    reverting: str
    eoa: str

    @property
    def url(self) -> str:
        return self.anvil.url

    @property
    def holder(self) -> str:
        return self.sample.holders[0]


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    require_integration("anvil (the devnet fixture)")
    with Anvil(chain_id=CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        accounts = chain.accounts()
        sample = deploy_sample_tokens(chain, accounts[1:4])
        no_decimals = chain.deploy("NoDecimalsToken", "No Decimals", "NODEC")
        chain.transact(no_decimals, "mint(address,uint256)", accounts[1], 777)
        reverting = chain.deploy("RevertingToken", "Broken", "BRK", 18)
        yield Devnet(anvil, chain, sample, no_decimals, reverting, eoa=accounts[9])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    require_integration("redis-server (the redis_url fixture)")
    with RedisServer() as server:
        yield server.url


class RedisServer:
    """A throwaway `redis-server` on a free port, nothing persisted."""

    def __init__(self) -> None:
        require_integration("redis-server")
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = find_free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> RedisServer:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def devnet_settings(
    tmp_path: Path,
    devnet: Devnet,
    *,
    rpc_urls: list[str] | None = None,
    extra_chains: dict[str, dict[str, Any]] | None = None,
    tokens: list[dict[str, Any]] | None = None,
    cache: dict[str, Any] | None = None,
    limits: dict[str, Any] | None = None,
    prices: dict[str, Any] | None = None,
    spam: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    **chain_overrides: Any,
) -> Settings:
    """Settings with a `devnet` chain (the sample token list) plus any `extra_chains`."""
    token_list = devnet.sample.token_list(CHAIN_ID)
    token_list["tokens"] += tokens or []
    (tmp_path / "tokenlist.json").write_text(json.dumps(token_list), encoding="utf-8")
    chain = {
        "name": "Devnet",
        "family": "evm",
        "chain_id": CHAIN_ID,
        "rpc_urls": rpc_urls or [devnet.url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
        "tokens": "tokenlist.json",
        **chain_overrides,
    }
    raw = {
        "chains": {"devnet": chain, **(extra_chains or {})},
        "cache": cache or {},
        "limits": limits or {},
        "prices": prices or {},
        "spam": spam or {},
    }
    return parse_settings(raw, base_dir=tmp_path, environ=environ or {})


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    return f"http://127.0.0.1:{find_free_port()}"


def dead_chain() -> dict[str, Any]:
    """A chain table whose only node is down (for `extra_chains`)."""
    return {
        "family": "evm",
        "chain_id": 99,
        "rpc_urls": [dead_url()],
        "timeout": 2,
        "native": {"symbol": "DWN", "name": "Down", "decimals": 18},
    }


class Api:
    """A running app (lifespan included) and a GraphQL helper."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def services(self) -> Services:
        services: Services = self.client.app.state.services  # type: ignore[attr-defined]
        return services

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def upstream(self, chain: str = "devnet") -> int:
        return self.services.metrics.upstream_requests.total(chain=chain)


def serve(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Iterator[Api]:
    with TestClient(create_app(settings, transport=transport)) as client:
        yield Api(client)


@pytest.fixture
def api(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    yield from serve(devnet_settings(tmp_path, devnet))


def errors_by_code(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for error in body.get("errors") or []:
        grouped.setdefault(error["extensions"]["code"], []).append(error)
    return grouped


@contextmanager
def live_server(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its base URL."""
    app = create_app(settings, transport=transport)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=find_free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def run_node_test(path: str, env: dict[str, str], timeout: float = 120) -> str:
    """`node --test <path>` with `env`; fails the calling test with node's output if it fails."""
    require_integration("a Node.js test")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("Node.js is required for this test (install Node.js >= 18)")
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", path],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output
