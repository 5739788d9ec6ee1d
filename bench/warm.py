"""Benchmark: the warm path beside a plain Starlette route serving the same bytes, in one run.

Run with `make bench`. One anvil with Multicall3 and 200 listed ERC-20s; `balance-graph
serve` runs as `make serve` runs it, and `bench.plain` (no GraphQL: read the JSON body, send
a JSON document built per request) runs on the same uvicorn with the same worker count,
answering the very documents the service answered. Every ratio compares the two in this run
on this machine, so the machine's speed cancels out.

Rows (`warm`: every value already cached, 0 upstream requests, checked):

    20 rows, repeated       autocannon -c16: the same document and variables (whole-answer cache)
    20 rows, new variables  every request carries a variable never sent before, so the answer
                            cache misses and the query executes over cached values
    20 rows, new document   every request's document is new text: parse, validate, plan, execute
    1,005 rows              `accounts` of 5 x 201 rows (includeZero), serial median latency,
                            repeated and with new variables
    { __typename } etc.     serial median latency of the smallest queries
    cold 1,005 lookups      forceRefresh, beside the same Multicall3 batches sent straight to
                            anvil and decoded (the floor: the node's own time plus decoding)
    2 workers + Redis       throughput with the shared cache, beside the plain route on 2 workers
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.harness import listed_tokens, report, write_config
from bench.load import NONCE, Served
from bench.plain import DOCUMENTS_ENV
from chains.evm import multicall
from chains.evm.multicall import Call
from devnet.anvil import Anvil
from devnet.chain import MULTICALL3_ADDRESS, DevChain
from devnet.redis import RedisServer

TOKENS, HOLDERS = 200, 5
CHUNK = 499
"""Lookups per aggregate3 (besides its getBlockNumber), as the EVM provider sends them."""
SECONDS = 8
SERIAL_ROUNDS, LARGE_ROUNDS, COLD_ROUNDS = 300, 60, 7
GOALS = {"repeated": 0.5, "never seen": 0.15, "large": 3.0, "cold": 2.0}
FIELDS = "chain rawAmount amount blockNumber lastUpdated token { address symbol decimals }"
TWENTY = f"""query($a: String!, $t: [String!]) {{ account(address: $a) {{
  balances(tokens: $t, includeZero: true) {{ {FIELDS} }} }} }}"""
LARGE = f"""query($a: [String!]!, $force: Boolean) {{ accounts(addresses: $a) {{ address
  balances(includeZero: true, forceRefresh: $force) {{ {FIELDS} }} }} }}"""


class Bench:
    """The devnet, its config and the requests, shared by every row."""

    def __init__(self, workdir: Path, chain: DevChain, url: str) -> None:
        chain.install_multicall3()
        self.holders = chain.accounts()[1 : 1 + HOLDERS]
        self.tokens = listed_tokens(chain, TOKENS, chain.chain_id(), "W")
        for entry in self.tokens[:10]:  # some rows hold something
            for holder in self.holders:
                chain.transact(entry["address"], "mint(address,uint256)", holder, 10**18)
        write_config(workdir, {"devnet": (chain.chain_id(), url, self.tokens)})
        self.config = workdir / "bench.toml"
        self.node = url
        addresses = ["native", *(t["address"] for t in self.tokens[:19])]
        self.bodies: dict[str, dict[str, Any]] = {
            "typename": {"query": "{ __typename }"},
            "chains": {"query": "{ chains { id } }"},
            "twenty": {"query": TWENTY, "variables": {"a": self.holders[0], "t": addresses}},
            "large": {"query": LARGE, "variables": {"a": self.holders, "force": False}},
        }

    def new_variables(self, name: str) -> dict[str, Any]:
        """`name`'s request with a variable the operation ignores, new on every request."""
        body = self.bodies[name]
        return {**body, "variables": {**body["variables"], "nonce": NONCE}}

    def new_document(self, name: str) -> dict[str, Any]:
        """`name`'s request whose document text is new on every request."""
        body = self.bodies[name]
        return {**body, "query": f"# {NONCE}\n{body['query']}"}

    def with_redis(self, url: str) -> Path:
        config = self.config.with_name("redis.toml")
        config.write_text(
            f'[cache]\nredis_url = "{url}"\n' + self.config.read_text("utf-8"), "utf-8"
        )
        return config


@contextmanager
def side_by_side(bench: Bench, config: Path, workers: int) -> Iterator[tuple[Served, Served]]:
    """The service and the plain route serving the service's own answers."""
    with load.process(load.service(config, workers)) as service:
        documents = {}
        for name, body in bench.bodies.items():
            answer = httpx.post(f"{service.url}/graphql", json=body, timeout=60).json()
            assert "errors" not in answer, answer["errors"]
            documents[name] = answer
        path = config.with_name(f"documents-{workers}.json")
        path.write_text(json.dumps(documents), "utf-8")
        with load.process(load.plain(workers), {DOCUMENTS_ENV: str(path)}) as plain:
            yield service, plain


def rows(bench: Bench) -> bool:
    ok = True
    with side_by_side(bench, bench.config, workers=1) as (service, plain):
        graphql = f"{service.url}/graphql"
        warmed = service.upstream_requests()

        print(f"throughput, autocannon -c16 -d{SECONDS}, 1 worker: 20 rows")
        base = load.throughput(f"{plain.url}/twenty", bench.bodies["twenty"], SECONDS)
        report("plain route", f"{base:8.0f} req/s", "baseline", True)
        for name, body, goal in (
            ("repeated", bench.bodies["twenty"], GOALS["repeated"]),
            ("new variables", bench.new_variables("twenty"), GOALS["never seen"]),
            ("new document", bench.new_document("twenty"), GOALS["never seen"]),
        ):
            rate = load.throughput(graphql, body, SECONDS)
            ratio = rate / base
            ok &= report(name, f"{rate:8.0f} req/s x{ratio:5.3f}", f">= x{goal}", ratio >= goal)

        print("serial median latency, 1 worker")
        for name in ("typename", "chains", "twenty"):
            ms, base_ms = load.serial(
                [(graphql, bench.bodies[name]), (f"{plain.url}/{name}", bench.bodies[name])],
                SERIAL_ROUNDS,
            )
            report(name, f"{ms:8.2f} ms x{ms / base_ms:5.3f}", f"plain {base_ms:.2f} ms", True)

        rows_count = HOLDERS * (TOKENS + 1)
        print(f"serial median latency, 1 worker: {rows_count:,} rows")
        repeated, fresh, base_ms = load.serial(
            [
                (graphql, bench.bodies["large"]),
                (graphql, bench.new_variables("large")),
                (f"{plain.url}/large", bench.bodies["large"]),
            ],
            LARGE_ROUNDS,
        )
        report("plain route", f"{base_ms:8.2f} ms", "baseline", True)
        goal = GOALS["large"]
        for name, ms in (("repeated", repeated), ("new variables", fresh)):
            ok &= report(
                name, f"{ms:8.2f} ms x{ms / base_ms:5.3f}", f"<= x{goal}", ms / base_ms <= goal
            )
        spent = service.upstream_requests() - warmed
        ok &= report("upstream/warm", f"{spent:8d} req", "== 0 req", spent == 0)

        ok &= cold(bench, graphql, service)
    return ok


def cold(bench: Bench, graphql: str, service: Served) -> bool:
    lookups = HOLDERS * (TOKENS + 1)
    forced = {**bench.bodies["large"], "variables": {"a": bench.holders, "force": True}}
    times, direct, requests = asyncio.run(_cold_runs(bench, graphql, forced, service))
    print(f"cold: {lookups:,} lookups (forceRefresh), median of {COLD_ROUNDS}")
    report("anvil direct", f"{direct:8.1f} ms", "baseline", True)
    ratio = times / direct
    ok = report(
        "service", f"{times:8.1f} ms x{ratio:5.3f}", f"<= x{GOALS['cold']}", ratio <= GOALS["cold"]
    )
    expected = math.ceil(lookups / CHUNK)
    return ok & report(
        "upstream/cold", f"{requests:8d} req", f"== {expected} req", requests == expected
    )


async def _cold_runs(
    bench: Bench, graphql: str, forced: dict[str, Any], service: Served
) -> tuple[float, float, int]:
    """Alternating: the service's cold query, then the same batches straight to the node."""
    chunks = _batches(bench)
    served, direct, requests = [], [], 0
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(COLD_ROUNDS):
            before = await asyncio.to_thread(service.upstream_requests)
            started = time.perf_counter()
            answer = (await client.post(graphql, json=forced)).json()
            served.append((time.perf_counter() - started) * 1000)
            assert "errors" not in answer, answer["errors"]
            requests = await asyncio.to_thread(service.upstream_requests) - before
            started = time.perf_counter()
            amounts = await _read_directly(client, bench.node, chunks)
            direct.append((time.perf_counter() - started) * 1000)
            assert len(amounts) == HOLDERS * (TOKENS + 1)
            assert None not in amounts
    return statistics.median(served), statistics.median(direct), requests


def _batches(bench: Bench) -> list[list[Call]]:
    calls = []
    for holder in bench.holders:
        calls.append(Call(MULTICALL3_ADDRESS, multicall.get_eth_balance(holder)))
        calls += [Call(t["address"], multicall.balance_of(holder)) for t in bench.tokens]
    block = Call(MULTICALL3_ADDRESS, multicall.get_block_number())
    return [[*calls[i : i + CHUNK], block] for i in range(0, len(calls), CHUNK)]


async def _read_directly(
    client: httpx.AsyncClient, node: str, chunks: list[list[Call]]
) -> list[int | None]:
    async def one(calls: list[Call]) -> list[int | None]:
        data = "0x" + multicall.encode_aggregate3(calls).hex()
        call = {"to": MULTICALL3_ADDRESS, "data": data}
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [call, "latest"]}
        result = (await client.post(node, json=body)).json()["result"]
        decoded = multicall.decode_aggregate3(bytes.fromhex(result[2:]), len(calls))
        assert decoded is not None
        return [multicall.decode_uint256(r.data) if r.success else None for r in decoded[:-1]]

    answers = await asyncio.gather(*(one(calls) for calls in chunks))
    return [amount for answer in answers for amount in answer]


def shared(bench: Bench) -> bool:
    with RedisServer() as redis:
        config = bench.with_redis(redis.url)
        with side_by_side(bench, config, workers=2) as (service, plain):
            print(f"throughput, autocannon -c16 -d{SECONDS}, 2 workers + Redis: 20 rows")
            base = load.throughput(f"{plain.url}/twenty", bench.bodies["twenty"], SECONDS)
            report("plain route", f"{base:8.0f} req/s", "baseline", True)
            ok = True
            for name, body, goal in (
                ("repeated", bench.bodies["twenty"], GOALS["repeated"]),
                ("new variables", bench.new_variables("twenty"), GOALS["never seen"]),
            ):
                rate = load.throughput(f"{service.url}/graphql", body, SECONDS)
                ratio = rate / base
                ok &= report(name, f"{rate:8.0f} req/s x{ratio:5.3f}", f">= x{goal}", ratio >= goal)
    return ok


def main() -> int:
    print(f"warm path, side by side with a plain Starlette route; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp, Anvil() as anvil, DevChain(anvil.url) as chain:
        bench = Bench(Path(tmp), chain, anvil.url)
        ok = rows(bench)
        ok &= shared(bench)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
