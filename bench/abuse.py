"""`make abuse`: the attacks of issues 8 and 18, replayed against a real server.

A `balance-graph serve` process (one worker, sharing a real Redis) reads a healthy anvil
chain (also configured twice more for history, see `bench/scans.py`) and a chain whose two
endpoints accept connections and never answer. Issue 8 (items 1, 2 and 8):

1. a 1.2 KB document whose fragments double 30 times (2^30 aliases once expanded) must be
   refused in under 100 ms;
2. the 9 KB CPU bomb (49 aliases x `accounts` of 100 addresses x `balances`) must be refused
   before execution (no `data`, COST_LIMIT_EXCEEDED, no upstream request);
3. while 200 requests wait on the hung chain, 100 queries of the healthy chain must keep a
   p99 under 500 ms, and the hung requests must answer UPSTREAM_TIMEOUT at the deadline.

Issue 18 (defects 1 to 4 and 6): floods of free requests against the caches and Redis
(`bench/floods.py`), and history scans past the size cap and past their price
(`bench/scans.py`), each with the server's RSS, its upstream requests and its readiness.

Prints each measurement beside its target; exits 1 if any is missed.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import floods, scans
from bench.harness import report
from bench.probes import timed, upstream, wait_ready
from devnet.anvil import Anvil, find_free_port
from devnet.blackhole import BlackHole
from devnet.chain import DevChain
from devnet.redis import RedisServer
from devnet.sample import deploy_sample_tokens

DEADLINE = 3.0
BALANCE = """query($a: String!, $c: String!) {
  balance(account: $a, chain: $c, token: "native") { rawAmount } }"""


def fan_out(levels: int) -> str:
    fragments = ["fragment F0 on Chain { a: id }"] + [
        f"fragment F{i} on Chain {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1)
    ]
    body = "\n".join(fragments)
    return f"{{ chains {{ ...F{levels} }} }}\n{body}"


def cpu_bomb(holder: str) -> dict[str, Any]:
    """The 9 KB request of the issue: 49 aliases x `accounts` of 100 addresses x `balances`."""
    aliases = " ".join(
        f"a{i}: accounts(addresses: $a) {{ balances {{ rawAmount }} }}" for i in range(49)
    )
    return {"query": f"query($a: [String!]!) {{ {aliases} }}", "variables": {"a": [holder] * 100}}


def config(directory: Path, healthy: str, hung: str) -> Path:
    path = directory / "abuse.toml"
    path.write_text(
        f"""[server]
request_deadline = {DEADLINE}

# The attacks all come from this one address, which rate limits would stop first; the replay
# measures what the rest of the service does about them (a botnet has many addresses).
[rate_limits.anonymous]
[auth]
data_dir = "{directory / "data"}"

[cache]
response_cache_bytes = {floods.CACHE_BYTES}
response_cache_shared_bytes = {floods.SHARED_BYTES}

[documents]
cache_bytes = {floods.CACHE_BYTES}

[limits]
max_lookups = 500
max_history_events = {scans.MAX_HISTORY_EVENTS}

{scans.chains(healthy)}

[chains.devnet]
chain_id = 31337
rpc_urls = ["{healthy}"]
native = {{ symbol = "ETH", name = "Ether", decimals = 18 }}

[chains.hung]
chain_id = 77
timeout = 30
rpc_urls = ["{hung}", "{hung}/second"]
native = {{ symbol = "H", name = "Hung", decimals = 18 }}
""",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Target:
    """The server under attack, and what the attacks need to know of its world."""

    url: str
    pid: int
    holder: str
    crowd: scans.Crowd
    redis_url: str
    key: str


async def attack(target: Target) -> bool:
    # Idle connections go before the server's keep-alive (5 s) closes them under a request.
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=target.url, timeout=120, limits=limits) as http:
        await wait_ready(http)
        holder = target.holder
        ok = True

        fan = [await timed(http, {"query": fan_out(30)}) for _ in range(5)]
        fan_ms = statistics.median(ms for ms, _ in fan)
        refused = all("data" not in body for _, body in fan)
        ok &= report("fan-out refused", f"{fan_ms:8.1f} ms", "< 100 ms", refused and fan_ms < 100)

        before = await upstream(http)
        bomb_ms, bomb = await timed(http, cpu_bomb(holder))
        codes = {e["extensions"]["code"] for e in bomb.get("errors", [])}
        spared = "data" not in bomb and codes == {"COST_LIMIT_EXCEEDED"}
        spared &= await upstream(http) == before
        ok &= report("cpu bomb refused", f"{bomb_ms:8.1f} ms", "before run", spared)

        print("issue 18: floods, Redis, history scans")
        ok &= await floods.caches(http, target.pid)
        ok &= await floods.redis_writes(http, target.redis_url, target.key)
        ok &= await scans.dense_history(http, target.crowd)
        ok &= await scans.priced_history(http, target.pid, target.crowd)

        print("issue 8: a hung chain beside a healthy one")

        hung = [
            asyncio.create_task(
                timed(http, {"query": BALANCE, "variables": {"a": f"0x{i + 1:040x}", "c": "hung"}})
            )
            for i in range(200)
        ]
        await asyncio.sleep(0.5)
        healthy = []
        for _ in range(100):
            ms, body = await timed(
                http, {"query": BALANCE, "variables": {"a": holder, "c": "devnet"}}
            )
            assert body["data"]["balance"] is not None, body
            healthy.append(ms)
        answers = await asyncio.gather(*hung)
        healthy.sort()
        p50, p99 = healthy[49], healthy[98]
        ok &= report("healthy p50", f"{p50:8.1f} ms", "", True)
        ok &= report("healthy p99", f"{p99:8.1f} ms", "< 500 ms", p99 < 500)
        timeouts = sum(
            1 for _, b in answers if b["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        )
        slowest = max(ms for ms, _ in answers) / 1000
        ok &= report("hung answered", f"{timeouts:8d} /200", "all timeouts", timeouts == 200)
        ok &= report(
            "hung slowest",
            f"{slowest:8.1f} s",
            f"~{DEADLINE:.0f} s, not 60",
            slowest < DEADLINE + 5,
        )
        return ok


def main() -> int:
    with (
        Anvil() as anvil,
        DevChain(anvil.url) as chain,
        BlackHole() as hole,
        RedisServer() as redis,
        tempfile.TemporaryDirectory() as tmp,
    ):
        holder = chain.accounts()[1]
        deploy_sample_tokens(chain, [holder])  # Multicall3 at its canonical address, too
        crowd = scans.crowd(chain)
        path = config(Path(tmp), anvil.url, hole.url)
        env = {**os.environ, "REDIS_URL": redis.url}
        port = find_free_port()
        argv = [sys.executable, "-m", "graph.cli", "--log-level", "error"]
        keys = [*argv, "keys", "create", "--name", "abuse", "--config", str(path)]
        key = subprocess.run(keys, env=env, check=True, capture_output=True, text=True).stdout
        serve = [*argv, "serve", "--config", str(path), "--port", str(port), "--workers", "1"]
        ok = False
        with (Path(tmp) / "server.log").open("wb") as log:
            server = subprocess.Popen(serve, stderr=log, env=env)
        try:
            print("issue 8 abuse replay: 1 worker, a healthy anvil chain and a hung chain")
            url = f"http://127.0.0.1:{port}"
            target = Target(url, server.pid, holder, crowd, redis.url, key.strip())
            ok = asyncio.run(attack(target))
        finally:
            server.terminate()
            server.wait(15)
            if not ok:
                print("server log:", (Path(tmp) / "server.log").read_text()[-3000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
