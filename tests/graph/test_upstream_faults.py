"""A hung node, a lying node and a garbage body, met through the whole running service.

Each failed before (issue 8, items 8 and 11): 200 requests to a hung chain slowed a healthy
chain's query from 70 ms to 9 s and waited out every endpoint; JSON nested 100,000 levels
deep or an integer of 5,000 digits from Esplora escaped as INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.blackhole import BlackHole
from tests.conftest import Devnet, devnet_settings, live_server
from tests.fakes import esplora
from tests.fakes import starknet as stark
from tests.graph.conftest import offline_service, offline_settings

BALANCE = """query($a: String!, $c: String!) {
  balance(account: $a, chain: $c, token: "native") { rawAmount } }"""


@pytest.fixture
def hung_and_healthy(tmp_path: Path, devnet: Devnet) -> Iterator[tuple[str, BlackHole]]:
    with BlackHole() as hole:
        hung = {
            "family": "evm",
            "chain_id": 77,
            "rpc_urls": [hole.url, hole.url + "/second"],
            "timeout": 30,  # each endpoint would hold a request 30 s: the deadline must win
            "native": {"symbol": "H", "name": "Hung", "decimals": 18},
        }
        settings = devnet_settings(
            tmp_path,
            devnet,
            extra_chains={"hung": hung},
            server={"request_deadline": 3},
        )
        with live_server(settings) as url:
            yield url, hole


async def test_a_hung_chain_answers_at_the_deadline_and_never_slows_a_healthy_one(
    hung_and_healthy: tuple[str, BlackHole], devnet: Devnet
) -> None:
    url, hole = hung_and_healthy
    limits = httpx.Limits(max_connections=300)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def ask(chain: str, account: str) -> tuple[float, dict[str, Any]]:
            variables = {"a": account, "c": chain}
            response = await http.post("/graphql", json={"query": BALANCE, "variables": variables})
            return time.perf_counter(), response.json()

        started = time.perf_counter()
        hung = [
            asyncio.create_task(ask("hung", f"0x{i + 1:040x}")) for i in range(200)
        ]  # distinct accounts: 200 separate reads, not one shared
        await asyncio.sleep(0.3)
        healthy_done, healthy = await ask("devnet", devnet.holder)
        results = await asyncio.gather(*hung)
    assert healthy["data"]["balance"]["rawAmount"] == str(devnet.chain.get_balance(devnet.holder))
    assert all(healthy_done < done for done, _ in results)  # it never queued behind them
    assert hole.connections >= 1
    for done, body in results:
        assert body["data"] == {"balance": None}
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        assert done - started < 10  # the deadline, not 2 endpoints x 30 s


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"address": "x", "chain_stats": {"funded_txo_sum": ' + b"9" * 5_000 + b"}}",
    ],
)
def test_a_garbage_esplora_body_costs_only_bitcoins_rows(tmp_path: Path, body: bytes) -> None:
    for offline in offline_service(offline_settings(tmp_path)):
        offline.esplora.bodies[esplora.P2TR] = body
        answer = offline.api.query(
            """query($b: String!, $s: String!) {
              btc: account(address: $b) { balances { rawAmount } }
              stark: account(address: $s) { balances { rawAmount } }
              pairs: balances(pairs: [
                {account: $b, chain: "bitcoin", token: "native"},
                {account: $s, chain: "starknet", token: "native"}]) { rawAmount } }""",
            {"b": esplora.P2TR, "s": stark.ALICE},
        )
        data = answer["data"]
        assert data["btc"] == {"balances": []}
        assert data["stark"]["balances"]  # the healthy chain is served
        assert data["pairs"][0] is None and data["pairs"][1] == {"rawAmount": str(7 * 10**18)}
        codes = {e["extensions"]["code"] for e in answer["errors"]}
        assert codes == {"UPSTREAM_PROVIDER_ERROR"}


async def test_history_on_a_hung_chain_answers_at_the_deadline(
    hung_and_healthy: tuple[str, BlackHole], devnet: Devnet
) -> None:
    url, _ = hung_and_healthy
    query = """query($a: String!) { account(address: $a) {
      then: balances(chains: ["hung"], atTime: "2024-01-01T00:00:00Z") { rawAmount }
      events: balanceHistory(chain: "hung", token: "0x%s") { events { delta } }
      now: balances(chains: ["devnet"], tokens: ["native"]) { rawAmount } } }""" % ("11" * 20)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        started = time.perf_counter()
        response = await http.post(
            "/graphql", json={"query": query, "variables": {"a": devnet.holder}}
        )
        took = time.perf_counter() - started
    body = response.json()
    assert took < 6  # the 3 s deadline, not 2 endpoints x 30 s
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_TIMEOUT"}
    account = body["data"]["account"]
    assert account["then"] == [] and account["events"] == {"events": []}
    assert account["now"] == [{"rawAmount": str(devnet.chain.get_balance(devnet.holder))}]
