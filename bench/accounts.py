"""Benchmark: a cold `accounts` query, 20 accounts x 50 tokens on two EVM chains (two anvils).

Target: one round of upstream requests per chain (the chunks of one round go out
concurrently), whatever the number of accounts. Run with `make bench`.
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.harness import ChainSpec, listed_tokens, report, running, write_config
from devnet.anvil import Anvil
from devnet.chain import DevChain

ACCOUNTS, TOKENS, RUNS = 20, 50, 5
CHUNK = 499  # sub-calls per aggregate3 besides getBlockNumber
# Measured ~170 ms: anvil answering 6 batches of 499 sub-calls, decoding and storing 2,040
# readings, and building their rows for the first time.
TARGET_MS = 500.0
QUERY = """query($a: [String!]!) { accounts(addresses: $a) { address
  balances(includeZero: true, forceRefresh: true) { chain rawAmount token { symbol } } } }"""


def main() -> int:
    chains: dict[str, ChainSpec] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        Anvil(chain_id=31337) as a,
        Anvil(chain_id=31338) as b,
    ):
        for name, anvil in (("one", a), ("two", b)):
            with DevChain(anvil.url) as chain:
                chain.install_multicall3()
                tokens = listed_tokens(chain, TOKENS, anvil.chain_id, name)
                chains[name] = (anvil.chain_id, anvil.url, tokens)
        settings = write_config(Path(tmp), chains)
        payload = {"query": QUERY, "variables": {"a": [f"0x{i:040x}" for i in range(1, 21)]}}
        with running(settings) as server, httpx.Client(timeout=30) as client:
            times = []
            for _ in range(RUNS):  # forceRefresh: every run is cold upstream
                start = time.perf_counter()
                body = client.post(server.url, json=payload).json()
                times.append((time.perf_counter() - start) * 1000)
                assert "errors" not in body, body["errors"]
            rows = sum(len(acc["balances"]) for acc in body["data"]["accounts"])
            per_chain = {name: server.upstream(name) // RUNS for name in chains}
    lookups = ACCOUNTS * (TOKENS + 1)
    elapsed = statistics.median(times)
    print(f"accounts: {ACCOUNTS} x {TOKENS + 1} tokens (with native) x 2 chains = {rows} rows")
    ok = report("cold p50", f"{elapsed:8.1f} ms", f"<= {TARGET_MS:.0f} ms", elapsed <= TARGET_MS)
    expected = math.ceil(lookups / CHUNK)
    for name, count in per_chain.items():
        ok &= report(f"upstream/{name}", f"{count:8d} req", f"== {expected} req", count == expected)
    print(f"  ({lookups} lookups per chain in chunks of {CHUNK}: one concurrent round per chain)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
