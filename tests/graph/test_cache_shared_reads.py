"""Replicas share cold reads (issue 22): three apps, each with its own memory, node client
and Redis client, one redis-server and one node (anvil behind a counting relay that answers
in 0.3 s, so cold reads overlap). Twenty concurrent cold requests to each replica for the
same wallet cost about one upstream read, not one per replica (nor sixty). Once as apps in
threads of this process (with and without the feature), once as `balance-graph serve`
processes."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.anvil import find_free_port
from tests.conftest import (
    CHAIN_ID,
    Devnet,
    RedisServer,
    devnet_settings,
    launch,
    live_server,
    stop,
    wait_healthy,
)
from tests.fakes.relay import Relay

pytestmark = pytest.mark.integration

REPLICAS = 3
REQUESTS = 20
QUERY = '{ account(address: "%s") { balances(maxAge: 300) { rawAmount token { symbol } } } }'


async def burst(urls: list[str], query: str) -> list[dict[str, Any]]:
    """`REQUESTS` concurrent POSTs to each of `urls`, all at once."""
    async with httpx.AsyncClient(timeout=20) as client:
        posts = [
            client.post(f"{url}/graphql", json={"query": query})
            for url in urls
            for _ in range(REQUESTS)
        ]
        answers = await asyncio.gather(*posts)
    assert {a.status_code for a in answers} == {200}
    return [a.json() for a in answers]


def cold_burst(tmp_path: Path, devnet: Devnet, *, shared_reads: bool) -> tuple[int, float]:
    """Upstream requests and seconds taken by one cold burst over `REPLICAS` replicas."""
    with RedisServer() as redis, Relay(devnet.url, delay=0.3) as relay, ExitStack() as stack:
        cache = {"redis_url": redis.url, "shared_reads": shared_reads}
        settings = devnet_settings(tmp_path, devnet, rpc_urls=[relay.url], cache=cache)
        urls = [stack.enter_context(live_server(settings)) for _ in range(REPLICAS)]
        before = relay.requests
        started = time.monotonic()
        bodies = asyncio.run(burst(urls, QUERY % devnet.holder))
        took = time.monotonic() - started
        assert all("errors" not in b for b in bodies), bodies[0]
        assert all(b == bodies[0] for b in bodies)
        rows = bodies[0]["data"]["account"]["balances"]
        assert rows and all(int(r["rawAmount"]) > 0 for r in rows)
        return relay.requests - before, took


def test_three_replicas_with_twenty_cold_requests_each_read_the_chain_about_once(
    tmp_path: Path, devnet: Devnet
) -> None:
    shared, took = cold_burst(tmp_path, devnet, shared_reads=True)
    assert 1 <= shared <= 2, shared
    assert took < 3.0  # waiters poll the shared cache; none waits out the lease


def test_without_shared_reads_each_replica_reads_the_chain_itself(
    tmp_path: Path, devnet: Devnet
) -> None:
    """The same burst with the feature off: the measurement above can fail."""
    alone, _ = cold_burst(tmp_path, devnet, shared_reads=False)
    assert alone >= REPLICAS, alone


def test_three_serve_processes_with_twenty_cold_requests_each_read_the_chain_about_once(
    tmp_path: Path, devnet: Devnet
) -> None:
    """The same burst against three `balance-graph serve` processes, as replicas run."""
    (tmp_path / "tokens.json").write_text(json.dumps(devnet.sample.token_list(CHAIN_ID)))
    with RedisServer() as redis, Relay(devnet.url, delay=0.3) as relay, ExitStack() as stack:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[chains.devnet]\nfamily = "evm"\nchain_id = {CHAIN_ID}\n'
            f'rpc_urls = ["{relay.url}"]\ntokens = "tokens.json"\n'
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }\n'
            "[rate_limits.anonymous]\n",
            encoding="utf-8",
        )
        servers = []
        for i in range(REPLICAS):
            port, log = find_free_port(), tmp_path / f"serve-{i}.log"
            args = ["serve", "--config", str(config), "--port", str(port), "--workers", "1"]
            proc = launch(args, {"REDIS_URL": redis.url}, log)
            stack.callback(stop, proc)
            servers.append((port, proc, log))
        for port, proc, log in servers:
            wait_healthy(port, proc, log)
        before = relay.requests
        urls = [f"http://127.0.0.1:{port}" for port, _, _ in servers]
        bodies = asyncio.run(burst(urls, QUERY % devnet.holder))
        assert all("errors" not in b and b == bodies[0] for b in bodies), bodies[0]
        assert 1 <= relay.requests - before <= 2, relay.requests - before


def test_with_redis_frozen_cold_requests_are_answered_from_the_chain_in_time(
    tmp_path: Path, devnet: Devnet
) -> None:
    """No lease can be taken or looked for: after a few timeouts the breaker opens and every
    replica reads the chain itself, as without Redis, well within the deadline."""
    with RedisServer() as redis, Relay(devnet.url, delay=0.3) as relay, ExitStack() as stack:
        cache = {"redis_url": redis.url, "redis_timeout": 0.25, "redis_retry_after": 60}
        settings = devnet_settings(
            tmp_path, devnet, rpc_urls=[relay.url], cache=cache, server={"request_deadline": 5}
        )
        urls = [stack.enter_context(live_server(settings)) for _ in range(2)]
        before = relay.requests
        redis.freeze()
        try:
            started = time.monotonic()
            bodies = asyncio.run(burst(urls, QUERY % devnet.eoa))
            took = time.monotonic() - started
        finally:
            redis.thaw()
        assert all("errors" not in b and b == bodies[0] for b in bodies), bodies[0]
        assert bodies[0]["data"]["account"]["balances"]  # the eoa holds ether
        assert took < 2.5
        assert 2 <= relay.requests - before <= 4  # each replica read for itself
