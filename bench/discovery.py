"""Benchmark: discovery over a 1,000,000-block anvil chain, cold and warm, and the shipped lists.

Run with `make bench`. A wallet receives a dozen unlisted ERC-20s near the head of a chain one
million blocks long; `account.balances` finds them from the chain's own `Transfer` logs. The
chain starts at block 999,000 (anvil's `--number`): mining a million blocks with
`anvil_mine` takes hours on this machine, and below its genesis anvil answers `eth_getLogs`
with no logs, as a node does for empty blocks, so the scanner walks the whole million.

    cold            the first call: every block read once (eth_getLogs batches, wall time)
    warm            a second call (another answer, not a kept one): no log read at all
    new blocks      after 100 more blocks: only those are read
    narrow node     cold again against a node that refuses address-less ranges over 10,000
                    blocks (Infura's kind of limit): the span adapts, every token is found
    shipped lists   tokens the default config knows per EVM chain, and how many have a logo
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Server, report, running
from chains.evm.addresses import normalize_evm_token
from chains.tokens.shipped import merge, shipped_lists
from devnet.anvil import Anvil
from devnet.chain import DevChain
from settings import Settings, load_settings

GENESIS = 1_000_000
TOKENS = 12
NARROW = 10_000
TARGETS = {"cold": 12, "warm": 0, "new blocks": 2}
"""eth_getLogs batches (three filters each): 10,000 blocks doubling to 1,000,000 takes 7."""
QUERY = """query($a: String!, $age: Int) { account(address: $a) {
  balances(maxAge: $age, minValueUsd: "0") { rawAmount token { symbol } } } }"""


class Narrow(httpx.AsyncBaseTransport):
    """The node, refusing address-less `eth_getLogs` over `NARROW` blocks."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        batch = calls if isinstance(calls, list) else [calls]
        for call in batch:
            params = call.get("params") or [{}]
            wide = call.get("method") == "eth_getLogs" and "address" not in params[0]
            if wide and int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) >= NARROW:
                error = {"code": -32005, "message": "query returned more than 10000 results"}
                answers = [{"jsonrpc": "2.0", "id": c["id"], "error": error} for c in batch]
                return httpx.Response(200, json=answers if isinstance(calls, list) else answers[0])
        return await self._inner.handle_async_request(request)


def config(workdir: Path, url: str) -> Settings:
    text = f"""
[auth]
data_dir = "{workdir / "data"}"
[rate_limits.anonymous]
[server]
request_deadline = 120
[tokens]
shipped_lists = false
[chains.disc]
chain_id = 31337
rpc_urls = ["{url}"]
native = {{ symbol = "ETH", name = "Ether", decimals = 18 }}
finality_depth = 5
discovery = ["logs"]
"""
    path = workdir / "bench.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {})


def logs(server: Server) -> int:
    return server.services.metrics.upstream_requests.get(chain="disc", method="eth_getLogs")


def call(server: Server, holder: str, age: int) -> tuple[float, int]:
    """One `account.balances`; each `age` is another request (never an answer kept)."""
    started = time.perf_counter()
    body = httpx.post(
        server.url, json={"query": QUERY, "variables": {"a": holder, "age": age}}, timeout=180
    ).json()
    elapsed = time.perf_counter() - started
    assert "errors" not in body, body["errors"]
    return elapsed, len(body["data"]["account"]["balances"])


def measure(chain: DevChain, anvil_url: str, holder: str, workdir: Path) -> dict[str, Any]:
    settings = config(workdir, anvil_url)
    results: dict[str, Any] = {}
    with running(settings) as server:
        before = logs(server)
        results["cold"] = (*call(server, holder, 300), logs(server) - before)
        before = logs(server)
        results["warm"] = (*call(server, holder, 301), logs(server) - before)
        chain.mine(100)
        time.sleep(2.1)  # the head is reused for two seconds
        before = logs(server)
        results["new blocks"] = (*call(server, holder, 302), logs(server) - before)
    with running(settings, transport=Narrow()) as server:
        results["narrow node"] = (*call(server, holder, 300), logs(server))
    return results


def main() -> int:
    with (
        Anvil(extra_args=["--number", str(GENESIS)]) as anvil,
        DevChain(anvil.url) as chain,
        tempfile.TemporaryDirectory() as tmp,
    ):
        chain.install_multicall3()
        deployer, holder = chain.accounts()[:2]
        for i in range(TOKENS):
            token = chain.deploy("TestToken", f"Found {i}", f"F{i}", 18)
            chain.transact(token, "mint(address,uint256)", holder, 10**18, sender=deployer)
            chain.mine(50)
        results = measure(chain, anvil.url, holder, Path(tmp))
        head = chain.block_number()
    print(f"discovery over {head:,} blocks (genesis at {GENESIS:,}), {TOKENS} unlisted tokens")
    ok = True
    for name, (seconds, rows, batches) in results.items():
        target = TARGETS.get(name)
        passed = rows == TOKENS + 1 and (target is None or batches <= target)
        shown = f"{batches:5d} batches {seconds * 1000:8.0f} ms {rows:3d} rows"
        ok &= report(name, shown, f"<= {target}" if target is not None else "all found", passed)
    print("shipped lists (default config): tokens, with a logo")
    default = load_settings(environ={})
    lists = shipped_lists()
    for chain_id in ("ethereum", "base", "arbitrum", "optimism", "polygon"):
        merged = merge(default.chains[chain_id], lists, normalize_evm_token, "https://x/")
        known = {**merged.trusted, **merged.unsettled}
        logos = sum(1 for m in known.values() if m.logo)
        floor = 300 if chain_id == "ethereum" else 100
        shown = f"{len(known):5d} tokens {logos:5d} logos"
        ok &= report(chain_id, shown, f">= {floor}", len(known) >= floor)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
