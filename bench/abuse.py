"""`make abuse`: the attacks of issue 8 (items 1, 2 and 8), replayed against a real server.

A `balance-graph serve` process (one worker) reads a healthy anvil chain and a chain whose
two endpoints accept connections and never answer. Then:

1. a 1.2 KB document whose fragments double 30 times (2^30 aliases once expanded) must be
   refused in under 100 ms;
2. the 9 KB CPU bomb (49 aliases x `accounts` of 100 addresses x `balances`) must be refused
   before execution (no `data`, COST_LIMIT_EXCEEDED, no upstream request);
3. while 200 requests wait on the hung chain, 100 queries of the healthy chain must keep a
   p99 under 500 ms, and the hung requests must answer UPSTREAM_TIMEOUT at the deadline.

Prints each measurement beside its target; exits 1 if any is missed.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.harness import report
from devnet.anvil import Anvil, find_free_port
from devnet.blackhole import BlackHole
from devnet.chain import DevChain
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


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/health/live")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def timed(http: httpx.AsyncClient, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await http.post("/graphql", json=payload)
    return (time.perf_counter() - started) * 1000, response.json()


async def attack(url: str, holder: str) -> bool:
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await wait_ready(http)
        ok = True

        fan = [await timed(http, {"query": fan_out(30)}) for _ in range(5)]
        fan_ms = statistics.median(ms for ms, _ in fan)
        refused = all("data" not in body for _, body in fan)
        ok &= report("fan-out refused", f"{fan_ms:8.1f} ms", "< 100 ms", refused and fan_ms < 100)

        before = await metrics_total(http)
        bomb_ms, bomb = await timed(http, cpu_bomb(holder))
        codes = {e["extensions"]["code"] for e in bomb.get("errors", [])}
        spared = "data" not in bomb and codes == {"COST_LIMIT_EXCEEDED"}
        spared &= await metrics_total(http) == before
        ok &= report("cpu bomb refused", f"{bomb_ms:8.1f} ms", "before run", spared)

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


async def metrics_total(http: httpx.AsyncClient) -> float:
    text = (await http.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("upstream_requests_total{")
    )


def main() -> int:
    with Anvil() as anvil, DevChain(anvil.url) as chain, BlackHole() as hole:
        holder = chain.accounts()[1]
        deploy_sample_tokens(chain, [holder])  # Multicall3 at its canonical address, too
        with tempfile.TemporaryDirectory() as tmp:
            path = config(Path(tmp), anvil.url, hole.url)
            port = find_free_port()
            argv = [sys.executable, "-m", "graph.cli", "--log-level", "error", "serve"]
            argv += ["--config", str(path), "--port", str(port), "--workers", "1"]
            ok = False
            with (Path(tmp) / "server.log").open("wb") as log:
                server = subprocess.Popen(argv, stderr=log)
            try:
                print("issue 8 abuse replay: 1 worker, a healthy anvil chain and a hung chain")
                ok = asyncio.run(attack(f"http://127.0.0.1:{port}", holder))
            finally:
                server.terminate()
                server.wait(15)
                if not ok:
                    print("server log:", (Path(tmp) / "server.log").read_text()[-3000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
