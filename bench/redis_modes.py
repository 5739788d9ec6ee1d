"""Benchmark: what a Redis Cluster round trip adds to a warm request, beside one Redis server.

Run with `make bench`. Two services run side by side on one anvil, one on a single
redis-server and one on a real 3-master, 3-replica cluster (`devnet.redis_topologies`), and
the same requests alternate between them, so drift (CPU frequency, other load) hits both:

    keyed warm `balance`    the answer is in process memory; the one Redis call is the
                            key's check-and-charge script (EVALSHA on the key's slot)
    20 values from Redis    20 balances of 5 holders, none kept in process memory and no
                            answer cache: one MGET on one server, one per slot on a cluster
                            (`mget_nonatomic`, sent to the 3 masters concurrently)

Each row reports the single-server median, the cluster median, what the cluster adds and
the ratio, measured in this run on this machine.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.harness import Server, report, running
from bench.metering import QUERY, settings_for
from chains.cache.clients import redis_client
from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.redis import RedisServer
from devnet.redis_topologies import RedisClusterSet
from devnet.sample import deploy_sample_tokens
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from settings import Settings

ROUNDS = 600
TARGET_RATIO = 1.5
"""A cluster client routes each command by slot to a connection it keeps per node: on
loopback a warm request should take at most half as long again as on one server (measured
here: +0.03 ms keyed, +0.3 to +0.8 ms for 20 values over three masters)."""
PAIRS = "query($p: [BalanceKeyInput!]!) { balances(pairs: $p) { rawAmount } }"


async def issue(settings: Settings) -> str:
    key = keys.new_key()
    record = KeyRecord(keys.digest(key), "bench", "bench", None, False, time.time())
    client = redis_client(settings.cache, timeout=5)
    assert client is not None
    await RedisStore(client).create(record)
    await client.aclose()
    return key


def alternate(
    servers: dict[str, tuple[Server, dict[str, str]]], body: dict[str, Any]
) -> dict[str, list[float]]:
    """Milliseconds of each request, the servers taking turns."""
    times: dict[str, list[float]] = {name: [] for name in servers}
    with httpx.Client(timeout=30) as client:
        for server, headers in servers.values():  # warm every cache first
            assert client.post(server.url, json=body, headers=headers).status_code == 200
        for _ in range(ROUNDS):
            for name, (server, headers) in servers.items():
                start = time.perf_counter()
                response = client.post(server.url, json=body, headers=headers)
                times[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
    return times


def row(name: str, times: dict[str, list[float]]) -> bool:
    single, cluster = (statistics.median(t) for t in times.values())
    added = cluster - single
    return report(
        name,
        f"{single:6.2f} ms single, {cluster:6.2f} ms cluster: +{added:4.2f} ms "
        f"(x{cluster / single:4.2f})",
        f"<= x{TARGET_RATIO}",
        cluster / single <= TARGET_RATIO,
    )


def services(
    stack: ExitStack, tmp: Path, rpc: str, caches: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, Server, str]]:
    for name, cache in caches.items():
        # values live in Redis only: process memory keeps one, answers are never reused
        only_redis = {**cache, "memory_max_entries": 1, "response_cache_bytes": 0}
        settings = settings_for(tmp / name, rpc, only_redis)
        key = asyncio.run(issue(settings))
        yield name, stack.enter_context(running(settings)), key


def mgets(port: int) -> int:
    """MGET commands the server on `port` has run: proof the values came from Redis."""
    with redis.Redis("127.0.0.1", port) as client:
        stats: dict[str, Any] = client.info("commandstats")
    return int(stats.get("cmdstat_mget", {}).get("calls", 0))


def main() -> int:
    ok = True
    with ExitStack() as stack:
        anvil = stack.enter_context(Anvil())
        chain = stack.enter_context(DevChain(anvil.url))
        holders = chain.accounts()[1:6]
        sample = deploy_sample_tokens(chain, holders)
        single = stack.enter_context(RedisServer())
        cluster = RedisClusterSet()
        cluster.start()
        stack.callback(cluster.stop)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        caches = {
            "single": {"redis_url": single.url},
            "cluster": {"redis_mode": "cluster", "redis_url": cluster.url},
        }
        running_services = list(services(stack, tmp, anvil.url, caches))
        keyed = {name: (server, {"x-api-key": key}) for name, server, key in running_services}
        plain: dict[str, tuple[Server, dict[str, str]]] = {
            name: (server, {}) for name, server, _ in running_services
        }
        tokens = ["native", *(t.address for t in sample.tokens)]
        pairs = [{"account": h, "chain": "devnet", "token": t} for h in holders for t in tokens]
        print(f"warm requests on one Redis and on a 3+3 cluster, {ROUNDS} each, alternating")
        ok &= row("keyed balance", alternate(keyed, {"query": QUERY % holders[0]}))
        body = {"query": PAIRS, "variables": {"p": pairs[:20]}}
        before = mgets(single.port)
        ok &= row("20 from Redis", alternate(plain, body))
        sent = mgets(single.port) - before
        ok &= report("MGETs (single)", f"{sent:8d}", f">= {ROUNDS}", sent >= ROUNDS)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
