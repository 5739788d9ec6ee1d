"""Benchmark: live balances, 10,000 subscriptions over 1,000 wallets on one process.

Run with `make bench`. The service runs in this process (its CPU time is this process's);
the subscribers run in a child process: 100 WebSockets of 100 subscriptions each, ten per
wallet, each watching the wallet's native and USDC rows (2,000 distinct rows). Then blocks
are mined, each with USDC transfers to ten random wallets, and measured:

    requests/block   upstream eth_call per block read: the batched read of every watched row
                     the pre-filter keeps (target: at most ceil(rows / 499), the read of all)
    full read        the same with the pre-filter off (`full_refresh_blocks = 1`): every row
    CPU ms/block     this process's CPU time per block (reading, comparing, executing and
                     sending the pushes), pre-filter on
    push lag p50/p99 from the block's read returning (here) to the push arriving (there),
                     over every pushed change (target: p99 under 250 ms)
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.harness import Server, report, running
from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.sample import deploy_sample_tokens
from settings import Settings, load_settings

WALLETS = 1_000
PER_WALLET = 10
PER_SOCKET = 100
BLOCKS = 20
RECEIVERS = 10
"""Wallets receiving USDC in each block."""
LAG_TARGET = 0.250
SETTLE = 0.5
"""Seconds after a block's read for its pushes (blocks come every 2 s or more on real chains)."""
QUERY = """subscription($a: [String!]!, $t: [String!]) { balanceChanges(accounts: $a,
  chains: ["bench"], tokens: $t, includeZero: true) {
    blockNumber previousRawAmount balance { rawAmount } } }"""


def config(workdir: Path, url: str, full_refresh: int) -> Settings:
    text = f"""
[auth]
data_dir = "{workdir / "data"}"
[rate_limits.anonymous]
[limits]
max_subscriptions_per_caller = {WALLETS * PER_WALLET}
max_watched_lookups = {WALLETS * PER_WALLET * 2}
[live]
max_sockets = 1000
max_pending = 100000
[tokens]
shipped_lists = false
[chains.bench]
chain_id = 31337
rpc_urls = ["{url}"]
native = {{ symbol = "ETH", name = "Ether", decimals = 18 }}
poll_interval = 0.05
full_refresh_blocks = {full_refresh}
"""
    path = workdir / f"live-{full_refresh}.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {})


def timed_reads(server: Server) -> dict[int, float]:
    """When each block's read returned (wall clock), by block: the follower's reader, wrapped."""
    returned: dict[int, float] = {}
    hub = server.services.streams.hub
    live = hub._chains["bench"]  # the benchmark looks inside: what it measures is private

    async def read(keys: Any, block: int) -> Any:
        outcomes = await live.read(keys, block)
        returned.setdefault(block, time.time())
        return outcomes

    hub._chains["bench"] = replace(live, read=read)
    return returned


def measure(chain: DevChain, settings: Settings, usdc: str, sender: str) -> dict[str, Any]:
    wallets = [f"0x{random.getrandbits(160):040x}" for _ in range(WALLETS)]
    with running(settings) as server:
        returned = timed_reads(server)
        base = server.url.removesuffix("/graphql")
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.live", "--client", base, usdc],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(json.dumps(wallets) + "\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ready"
        metrics = server.services.metrics
        before, cpu = metrics.upstream_requests.get(chain="bench", method="eth_call"), 0.0
        reads = metrics.live_block_reads.get(chain="bench")
        blocks = []
        for _ in range(BLOCKS):  # a block at a time, as a chain makes them
            started = time.process_time()
            receivers = random.sample(wallets, RECEIVERS)
            blocks.append(chain.transfers_in_one_block(usdc, sender, receivers))
            wait_for_read(returned, blocks[-1])
            time.sleep(SETTLE)  # its pushes
            cpu += time.process_time() - started
        requests = metrics.upstream_requests.get(chain="bench", method="eth_call") - before
        reads = metrics.live_block_reads.get(chain="bench") - reads
        received, _ = child.communicate(input="stop\n", timeout=60)
    lags = sorted(
        arrived - returned[block]
        for block, arrived in json.loads(received)
        if block in returned and block in blocks
    )
    return {"requests": requests / max(reads, 1), "cpu": cpu / BLOCKS, "lags": lags}


def wait_for_read(returned: dict[int, float], block: int) -> None:
    deadline = time.monotonic() + 60
    while block not in returned and time.monotonic() < deadline:
        time.sleep(0.01)


async def subscribers(base: str, usdc: str, wallets: list[str]) -> list[tuple[int, float]]:
    """Every wallet watched `PER_WALLET` times; the (block, arrival) of every pushed change."""
    from websockets.asyncio.client import connect  # the child process only

    watches = [w for w in wallets for _ in range(PER_WALLET)]
    arrivals: list[tuple[int, float]] = []
    url = base.replace("http://", "ws://") + "/graphql"
    sockets = []
    for start in range(0, len(watches), PER_SOCKET):
        ws = await connect(url, subprotocols=["graphql-transport-ws"], compression=None)  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        for offset, wallet in enumerate(watches[start : start + PER_SOCKET]):
            payload = {"query": QUERY, "variables": {"a": [wallet], "t": ["native", usdc]}}
            message = {"type": "subscribe", "id": str(start + offset), "payload": payload}
            await ws.send(json.dumps(message))
        sockets.append(ws)
    running = _Snapshots(len(watches) * 2)  # every subscription runs: two rows each
    tasks = [asyncio.ensure_future(_listen(ws, arrivals, running)) for ws in sockets]
    await running.done.wait()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for task in tasks:
        task.cancel()
    return arrivals


class _Snapshots:
    def __init__(self, expected: int) -> None:
        self.left = expected
        self.done = asyncio.Event()

    def one(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.done.set()


async def _listen(ws: Any, arrivals: list[tuple[int, float]], snapshots: _Snapshots) -> None:
    async for text in ws:
        message = json.loads(text)
        change = ((message.get("payload") or {}).get("data") or {}).get("balanceChanges")
        if change and change["previousRawAmount"] is not None:
            arrivals.append((int(change["blockNumber"]), time.time()))
        elif change:
            snapshots.one()


def client_main(base: str, usdc: str) -> int:
    wallets = json.loads(sys.stdin.readline())
    arrivals = asyncio.run(subscribers(base, usdc, wallets))
    print(json.dumps(arrivals), flush=True)
    return 0


def main() -> int:
    if sys.argv[1:2] == ["--client"]:
        return client_main(sys.argv[2], sys.argv[3])
    with Anvil() as anvil, DevChain(anvil.url) as chain, tempfile.TemporaryDirectory() as tmp:
        sample = deploy_sample_tokens(chain, chain.accounts()[1:2])
        usdc, sender = sample.token("USDC").address, sample.holders[0]
        filtered = measure(chain, config(Path(tmp), anvil.url, 64), usdc, sender)
        full = measure(chain, config(Path(tmp), anvil.url, 1), usdc, sender)
    rows = WALLETS * 2
    ceiling = math.ceil(rows / 499)
    lags = filtered["lags"]
    p50, p99 = (lags[int(q * (len(lags) - 1))] if lags else math.inf for q in (0.5, 0.99))
    print(
        f"live balances: {WALLETS * PER_WALLET:,} subscriptions over {WALLETS:,} wallets "
        f"({rows:,} rows), {BLOCKS} blocks, {len(lags):,} pushes measured"
    )
    ok = report(
        "requests/block",
        f"{filtered['requests']:5.2f}",
        f"<= {ceiling}",
        filtered["requests"] <= ceiling,
    )
    ok &= report(
        "full read", f"{full['requests']:5.2f}", f"<= {ceiling}", full["requests"] <= ceiling
    )
    ok &= report("CPU ms/block", f"{filtered['cpu'] * 1000:7.1f}", "(measured)", True)
    ok &= report("push lag p50", f"{p50 * 1000:7.1f} ms", "(measured)", bool(lags))
    ok &= report(
        "push lag p99", f"{p99 * 1000:7.1f} ms", f"< {LAG_TARGET * 1000:.0f} ms", p99 < LAG_TARGET
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
