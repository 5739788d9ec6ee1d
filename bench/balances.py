"""Benchmark: `account.balances` over 200 listed tokens on a local anvil, through real HTTP.

Run with `make bench`. It prints upstream request counts and latencies against the targets
below and exits non-zero when a target is missed. Numbers are for this 2-core machine class;
anvil answers in about a millisecond, so they measure our overhead, not a remote node's.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from chains.config import load_settings
from devnet.anvil import Anvil, find_free_port
from devnet.chain import DevChain
from devnet.sample import deploy_sample_tokens
from graph.app import Services, create_app

TOKENS = 200
WARM_RUNS = 200
# Warm time is almost all graphql-core executing ~1,800 fields (about 20 µs each on this
# machine); our own code (cache lookups, decoding, amounts) is a few milliseconds of it.
TARGETS_MS = {"cold": 200.0, "warm_p50": 60.0, "warm_p95": 100.0}
TARGET_UPSTREAM = {"cold": 1, "warm": 0}
QUERY = """query($a: String!, $force: Boolean) { account(address: $a) {
  balances(includeZero: true, forceRefresh: $force) {
    chain rawAmount amount blockNumber lastUpdated token { address symbol decimals } } } }"""


def main() -> int:
    with Anvil() as anvil, DevChain(anvil.url) as chain, tempfile.TemporaryDirectory() as tmp:
        holder = chain.accounts()[1]
        sample = deploy_sample_tokens(chain, [holder])
        token_list = sample.token_list()
        for i in range(TOKENS):
            address = chain.deploy("TestToken", f"Bench {i}", f"B{i}", 18)
            token_list["tokens"].append(
                {
                    "chainId": 31337,
                    "address": address,
                    "name": f"Bench {i}",
                    "symbol": f"B{i}",
                    "decimals": 18,
                }
            )
        config = Path(tmp) / "bench.toml"
        (Path(tmp) / "tokens.json").write_text(json.dumps(token_list), encoding="utf-8")
        config.write_text(
            f'[chains.devnet]\nfamily = "evm"\nchain_id = 31337\nrpc_urls = ["{anvil.url}"]\n'
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }\ntokens = "tokens.json"\n',
            encoding="utf-8",
        )
        return run(load_settings(config, {}), holder)


def run(settings: object, holder: str) -> int:
    app = create_app(settings)  # type: ignore[arg-type]
    port = find_free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        with httpx.Client(timeout=30) as client:
            services: Services = app.state.services
            counter = services.metrics.upstream_requests

            def timed(force: bool) -> float:
                start = time.perf_counter()
                body = client.post(
                    url, json={"query": QUERY, "variables": {"a": holder, "force": force}}
                ).json()
                elapsed = (time.perf_counter() - start) * 1000
                assert "errors" not in body, body["errors"]
                assert len(body["data"]["account"]["balances"]) == TOKENS + 4
                return elapsed

            cold_runs = []
            for _ in range(5):
                before = counter.total()
                cold_runs.append(timed(force=True))
                cold_upstream = counter.total() - before
            before = counter.total()
            warm = sorted(timed(force=False) for _ in range(WARM_RUNS))
            warm_upstream = counter.total() - before
    finally:
        server.should_exit = True
        thread.join(10)
    results = {
        "cold": statistics.median(cold_runs),
        "warm_p50": warm[len(warm) // 2],
        "warm_p95": warm[int(len(warm) * 0.95)],
    }
    ok = True
    print(f"account.balances over {TOKENS + 4} rows (native + 3 sample + {TOKENS} bulk tokens)")
    for name, value in results.items():
        ok &= report(
            name, f"{value:8.1f} ms", f"<= {TARGETS_MS[name]:.0f} ms", value <= TARGETS_MS[name]
        )
    for name, count in (("cold", cold_upstream), ("warm", warm_upstream // WARM_RUNS)):
        target = TARGET_UPSTREAM[name]
        ok &= report(f"upstream/{name}", f"{count:8d} req", f"== {target} req", count == target)
    return 0 if ok else 1


def report(name: str, value: str, target: str, passed: bool) -> bool:
    print(f"  {name:<14} {value}   target {target:<10} {'ok' if passed else 'MISSED'}")
    return passed


if __name__ == "__main__":
    sys.exit(main())
