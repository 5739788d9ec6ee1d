"""Three `balance-graph serve` processes on one Redis Cluster, then on one Sentinel set.

Each mode is chosen by configuration alone (`REDIS_MODE` and `REDIS_URL` in the environment,
as an operator would set them). The replicas share what they must: values (a second replica
answers warm without asking the chain, counted at a relay in front of anvil), cold reads
(twenty requests on each replica read the chain about once), credits, rate limits,
persisted queries and history. Then a master dies: the replicas keep answering,
keyed callers get 503 until the promotion, then are served again by themselves, and the
key's record counts exactly the requests that were admitted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.anvil import find_free_port
from devnet.redis import RedisServer
from devnet.redis_topologies import RedisClusterSet, RedisSentinelSet, wait_replicated
from metering import admin, keys
from settings import Settings, load_settings
from tests.conftest import (
    CHAIN_ID,
    Devnet,
    credits,
    issue_key,
    launch,
    redis_cache_table,
    stop,
    wait_healthy,
)
from tests.fakes.relay import Relay
from tests.graph.test_cache_shared_reads import burst

pytestmark = pytest.mark.integration

REPLICAS = 3
BALANCE = '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'
PAIRS = """query($p: [BalanceKeyInput!]!) { balances(pairs: $p) { rawAmount %s } }"""
COLD = '{ account(address: "%s") { balances(maxAge: 300) { rawAmount token { symbol } } } }'
HISTORY = """query($a: String!, $t: String!) { account(address: $a) {
  balanceHistory(chain: "devnet", token: $t, first: 10) { events { blockNumber delta } } } }"""


@dataclass
class Replicas:
    """The running processes, the relay every one of them reads the chain through, and the
    settings they were started with (for the key CLI)."""

    mode: str
    ports: list[int]
    relay: Relay
    settings: Settings
    topology: RedisClusterSet | RedisSentinelSet

    def post(self, replica: int, body: dict[str, Any], **headers: str) -> httpx.Response:
        port = self.ports[replica % len(self.ports)]
        url = f"http://127.0.0.1:{port}/graphql"
        return httpx.post(url, json=body, headers=headers, timeout=10)

    def data(self, replica: int, body: dict[str, Any]) -> Any:
        response = self.post(replica, body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "errors" not in answer, answer
        return answer["data"]


def write_config(directory: Path, devnet: Devnet, relay: Relay, master: str | None) -> Path:
    (directory / "tokens.json").write_text(json.dumps(devnet.sample.token_list(CHAIN_ID)))
    sentinel = f'redis_sentinel_master = "{master}"\n' if master else ""
    config = directory / "config.toml"
    config.write_text(
        f'[chains.devnet]\nfamily = "evm"\nchain_id = {CHAIN_ID}\nrpc_urls = ["{relay.url}"]\n'
        'native = { symbol = "ETH", name = "Ether", decimals = 18 }\ntokens = "tokens.json"\n'
        "finality_depth = 1\n"
        f"[cache]\nredis_timeout = 0.25\nredis_retry_after = 1\n{sentinel}"
        '[rate_limits.anonymous]\n[rate_limits.plans.tight]\nbalance = "4/min"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module", params=["cluster", "sentinel"])
def replicas(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, devnet: Devnet
) -> Iterator[Replicas]:
    mode: str = request.param
    table = redis_cache_table(mode, request)
    topology = request.getfixturevalue(f"redis_{mode}")
    directory = tmp_path_factory.mktemp(f"replicas-{mode}")
    environ = {"REDIS_MODE": mode, "REDIS_URL": table["redis_url"]}
    with Relay(devnet.url) as relay:
        config = write_config(directory, devnet, relay, table.get("redis_sentinel_master"))
        settings = load_settings(config, environ)
        assert settings.cache.redis_mode == mode
        ports = [find_free_port() for _ in range(REPLICAS)]  # one worker each: one breaker
        logs = [directory / f"serve-{port}.log" for port in ports]
        procs = [
            launch(
                ["serve", "--config", str(config), "--port", port, "--workers", "1"], environ, log
            )
            for port, log in zip(map(str, ports), logs, strict=True)
        ]
        try:
            for port, proc, log in zip(ports, procs, logs, strict=True):
                wait_healthy(port, proc, log)
            yield Replicas(mode, ports, relay, settings, topology)
        finally:
            for proc in procs:
                stop(proc)


def test_a_second_replica_answers_warm_with_no_upstream_request(
    replicas: Replicas, devnet: Devnet
) -> None:
    """Three holders' rows are keys of three slots: one batch read spans the cluster."""
    usdc = devnet.sample.token("USDC").address
    pairs = [
        {"account": holder, "chain": "devnet", "token": token}
        for holder in devnet.sample.holders
        for token in ("native", usdc)
    ]
    first = replicas.data(0, {"query": PAIRS % "", "variables": {"p": pairs}})
    before = replicas.relay.requests
    assert before > 0
    assert replicas.data(1, {"query": PAIRS % "", "variables": {"p": pairs}}) == first
    # another document: the answer cache misses, the values come from Redis
    other = replicas.data(2, {"query": PAIRS % "blockNumber", "variables": {"p": pairs}})
    assert [row["rawAmount"] for row in other["balances"]] == [
        row["rawAmount"] for row in first["balances"]
    ]
    assert replicas.relay.requests == before


def test_twenty_cold_requests_on_each_replica_read_the_chain_about_once(
    replicas: Replicas,
) -> None:
    """Shared cold reads through this mode's Redis: the lease, in the slot of the wallet's
    values, lets one replica read while the others wait (a distant node: 0.3 s a request)."""
    wallet = "0x" + secrets.token_hex(20)  # no replica has read it
    urls = [f"http://127.0.0.1:{port}" for port in replicas.ports]
    before, replicas.relay.delay = replicas.relay.requests, 0.3
    try:
        bodies = asyncio.run(burst(urls, COLD % wallet))
    finally:
        replicas.relay.delay = 0.0
    assert all("errors" not in b and b == bodies[0] for b in bodies), bodies[0]
    assert replicas.relay.requests - before <= 2  # 3 without the lease (each replica reads)


def test_a_key_with_10_credits_is_spent_across_replicas_then_refused(
    replicas: Replicas, devnet: Devnet
) -> None:
    key = issue_key(replicas.settings, f"ten-{replicas.mode}", credits=10)
    body = {"query": BALANCE % devnet.holder}
    answers = [replicas.post(i, body, **{"x-api-key": key}) for i in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [402]
    assert [credits(a) for a in answers[:10]] == [("1", str(9 - i)) for i in range(10)]
    refused = answers[-1].json()["errors"][0]["extensions"]
    assert refused["code"] == "INSUFFICIENT_CREDITS"


def test_a_rate_limit_counts_every_replica(replicas: Replicas, devnet: Devnet) -> None:
    key = issue_key(replicas.settings, f"tight-{replicas.mode}", plan="tight")
    body = {"query": BALANCE % devnet.holder}
    answers = [replicas.post(i, body, **{"x-api-key": key}) for i in range(5)]
    assert [a.status_code for a in answers] == [200] * 4 + [429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["3", "2", "1", "0", "0"]


def test_a_query_persisted_on_one_replica_is_known_to_the_others(replicas: Replicas) -> None:
    query = "{ %s: chains { id } }" % f"persisted_{replicas.mode}_{time.time_ns()}"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    expected = replicas.data(0, {"query": query, "extensions": extensions})
    for replica in (1, 2):
        assert replicas.data(replica, {"extensions": extensions}) == expected


def test_history_read_by_one_replica_is_not_read_again_by_another(
    replicas: Replicas, devnet: Devnet
) -> None:
    variables = {"a": devnet.holder, "t": devnet.sample.token("WETH").address}
    logs = replicas.relay.methods
    before = logs["eth_getLogs"]
    first = replicas.data(0, {"query": HISTORY, "variables": variables})
    assert first["account"]["balanceHistory"]["events"]
    read = logs["eth_getLogs"] - before
    assert read > 0
    before = logs["eth_getLogs"]
    assert replicas.data(1, {"query": HISTORY, "variables": variables}) == first
    assert logs["eth_getLogs"] == before  # every range it needs, the first one shared


def test_a_dead_master_costs_keyed_callers_a_few_seconds_and_no_credit(
    replicas: Replicas, devnet: Devnet
) -> None:
    """Runs last in each mode: it kills the master holding the key's record. Everything
    the test saw admitted is charged once; what it saw refused is charged nothing."""
    key = issue_key(replicas.settings, f"failover-{replicas.mode}", credits=1_000)
    record = f"bg:v1:{{key:{keys.digest(key)}}}:record"
    warm = {"query": BALANCE % devnet.holder}
    expected = replicas.data(0, warm)
    seen: list[httpx.Response] = [replicas.post(i, warm, **{"x-api-key": key}) for i in range(3)]
    assert {r.status_code for r in seen} == {200}
    master = master_of(replicas.topology, record)
    wait_replicated(master)  # the checkpoint: what was charged so far is on the replica
    master.kill()
    killed = time.monotonic()
    served_again: dict[int, float] = {}  # replica -> seconds after the kill
    i = 0
    while len(served_again) < REPLICAS and time.monotonic() - killed < 30:
        assert replicas.data(i, warm) == expected  # anonymous: from memory, else the chain
        answer = replicas.post(i, warm, **{"x-api-key": key})
        seen.append(answer)
        assert answer.status_code in {200, 503}, answer.text
        if answer.status_code == 200:
            served_again.setdefault(i % REPLICAS, time.monotonic() - killed)
        else:  # once a process is served again, it stays so
            assert i % REPLICAS not in served_again, f"replica {i % REPLICAS} flapped"
        i += 1
        time.sleep(0.05)
    assert len(served_again) == REPLICAS, f"keyed requests not served again: {served_again}"
    recovered = max(served_again.values())
    after = [replicas.post(i, warm, **{"x-api-key": key}) for i in range(REPLICAS)]
    assert [r.status_code for r in after] == [200] * REPLICAS
    seen += after
    refused = [r for r in seen if r.status_code == 503]
    admitted = [r for r in seen if r.status_code == 200]
    assert refused, "the dead master refused no keyed request"
    assert {r.json()["errors"][0]["extensions"]["code"] for r in refused} == {
        "METERING_UNAVAILABLE"
    }
    assert {credits(r)[0] for r in refused} <= {"0", None}
    # each admitted request charged once, in order: none lost, none charged twice
    assert [credits(r) for r in admitted] == [
        ("1", str(1_000 - n)) for n in range(1, len(admitted) + 1)
    ]
    assert len(admitted) == len(seen) - len(refused) >= 3 + REPLICAS + 3
    assert recovered < 15, f"recovered {recovered:.1f} s after the kill"
    stored = listed(replicas.settings)[f"failover-{replicas.mode}"]  # the promoted replica's
    assert (stored["requests"], stored["spent"]) == (len(admitted), len(admitted))
    assert stored["credits"] == 1_000 - len(admitted)
    for port in replicas.ports:
        assert httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5).status_code == 200


def listed(settings: Settings) -> dict[str, dict[str, Any]]:
    """`keys list --json`, by name."""
    out = io.StringIO()
    assert admin.run(argparse.Namespace(action="list", json=True), settings, out) == 0
    return {r["name"]: r for r in map(json.loads, out.getvalue().splitlines())}


def master_of(topology: RedisClusterSet | RedisSentinelSet, key: str) -> RedisServer:
    if isinstance(topology, RedisClusterSet):
        return topology.master_of(key)
    assert topology.master is not None
    assert topology.current_master() == topology.master.port
    return topology.master
