"""`make abuse`, issue 18 defects 3 and 4: history scans that cost more than they paid for.

Two chains of the abuse config read the same anvil node: `dense` caps answers at 96 KiB
(anvil, like geth by default, has no result cap of its own) and `priced` asks one block per
`eth_getLogs`. A token there has a crowded stretch: 30 blocks of 17 transfers each.

3. Three anonymous `balanceHistory` calls whose logs pass the cap: each answer over it was
   node trouble, three opened the circuit, balances of the healthy node failed and
   readiness said 503. Now the ranges are split, and the node stays up.
4. `accounts` of 20 new addresses, each with a `balanceHistory(first: 1)`: priced 20 lookups,
   it started 732 `eth_getLogs` on Ethereum. Now each timeline is priced by its scan and the
   request is refused before any read. A timeline over `max_history_events` was scanned
   again on every repeat; now the verdict is kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from bench.harness import report
from bench.probes import codes, flood, metric, rss_mb, timed, upstream
from devnet.chain import DevChain
from devnet.sample import crowd_blocks

BLOCKS = 30
LONG, DENSE = 10, 7
"""Transfers a block to the account whose timeline is too long, and to the dense one."""
MAX_HISTORY_EVENTS = 250
"""`[limits] max_history_events` of the abuse server: between DENSE and LONG timelines."""
HISTORY = """query($a: String!, $t: String!, $c: String!) { account(address: $a) {
  balanceHistory(chain: $c, token: $t, first: 1000) { events { delta } } } }"""
ACCOUNTS = """query($a: [String!]!, $t: String!) { accounts(addresses: $a) {
  balanceHistory(chain: "priced", token: $t, first: 1) { events { delta } } } }"""
BALANCE = """query($a: String!) { balance(account: $a, chain: "dense", token: "native") {
  rawAmount } }"""


@dataclass(frozen=True)
class Crowd:
    token: str
    long: str
    """Received `LONG * BLOCKS` transfers: more than `MAX_HISTORY_EVENTS`."""
    dense: str
    """Received `DENSE * BLOCKS` transfers, whose logs pass the 96 KiB cap together."""


def crowd(chain: DevChain) -> Crowd:
    """The crowded token, after a few quiet blocks, finalized (depth 2)."""
    sender, long, dense = chain.accounts()[5:8]
    token = chain.deploy("TestToken", "Crowd", "CRWD", 6)
    chain.transact(token, "mint(address,uint256)", sender, 10**12)
    crowd_blocks(chain, token, sender, {long: LONG, dense: DENSE}, BLOCKS)
    chain.mine(4)
    return Crowd(token, long, dense)


def chains(url: str) -> str:
    """The config tables of the two chains on the anvil node at `url`."""
    native = 'native = { symbol = "ETH", name = "Ether", decimals = 18 }'
    common = f'chain_id = 31337\nrpc_urls = ["{url}"]\nfinality_depth = 2\n{native}\n'
    return (
        f"[chains.dense]\n{common}log_range = 1000\nmax_response_bytes = 98304\n\n"
        f"[chains.priced]\n{common}log_range = 1\n"
    )


async def dense_history(http: httpx.AsyncClient, crowd: Crowd) -> bool:
    """Defect 3: three anonymous calls over logs past the cap; then the node's health."""
    variables = {"a": crowd.dense, "t": crowd.token, "c": "dense"}
    answers = [await timed(http, {"query": HISTORY, "variables": variables}) for _ in range(3)]
    events = [len(b["data"]["account"]["balanceHistory"]["events"]) for _, b in answers]
    exact = all(not codes(b) for _, b in answers) and events == [DENSE * BLOCKS] * 3
    ok = report("dense history", f"{events[0]:8d} events", "all, x3", exact)
    balance = await timed(http, {"query": BALANCE, "variables": {"a": crowd.long}})
    splits = await metric(http, "log_range_splits_total", chain="dense")
    ready = await http.get("/health/ready")
    up = ready.json()["chains"]["dense"]["state"] if ready.status_code == 200 else "?"
    healthy = not codes(balance[1]) and ready.status_code == 200 and up == "up"
    ok &= report("after: readiness", f"{ready.status_code:8d} {up}", "200 up", healthy)
    print(f"    ({splits:.0f} ranges split over max_response_bytes, circuit closed)")
    return ok


async def priced_history(http: httpx.AsyncClient, pid: int, crowd: Crowd) -> bool:
    """Defect 4: 20 new timelines priced before any scan. While the token's first block is
    unknown they are priced its search: the search runs once, and every field answers
    HISTORY_REPRICED without a scan; sent again, now priced whole, they are refused before
    any read. Then a too-long one is refused again and again."""
    fresh = [f"0x{n:040x}" for n in range(0xA0000, 0xA0014)]
    payload = {"query": ACCOUNTS, "variables": {"a": fresh, "t": crowd.token}}
    logs, calls, before = (
        await upstream(http, method="eth_getLogs"),
        await upstream(http, chain="priced"),
        rss_mb(pid),
    )
    started = time.perf_counter()
    _, cold = await timed(http, payload)
    _, body = await timed(http, payload)
    live = await http.get("/health/live")
    spent = await upstream(http, method="eth_getLogs") - logs
    searched = await upstream(http, chain="priced") - calls
    repriced = codes(cold) == {"HISTORY_REPRICED"}
    refused = "data" not in body and codes(body) == {"COST_LIMIT_EXCEEDED"}
    ok = report(
        "20 new timelines",
        f"{spent:8.0f} getLogs",
        "repriced, refused, 0",
        (repriced and refused and spent == 0),
    )
    price = body["errors"][0]["message"].split(";")[0] if refused else "admitted"
    took, grown = (time.perf_counter() - started) * 1000, rss_mb(pid) - before
    liveness = live.elapsed.total_seconds() * 1000
    print(f"    (one search: {searched:.0f} requests; then {price}: {took:.0f} ms for both,")
    print(f"     RSS {grown:+.1f} MB, /health/live {liveness:.0f} ms)")
    variables = {"a": crowd.long, "t": crowd.token, "c": "dense"}
    first = await timed(http, {"query": HISTORY, "variables": variables})
    logs = await upstream(http, method="eth_getLogs")
    again = await flood(http, [{"query": HISTORY, "variables": variables}] * 5)
    rescans = await upstream(http, method="eth_getLogs") - logs
    kept = codes(first[1]) == {"COST_LIMIT_EXCEEDED"} and rescans == 0
    kept &= all(codes(r.json()) == {"COST_LIMIT_EXCEEDED"} for r in again)
    ok &= report("too long, x5 more", f"{rescans:8.0f} getLogs", "refused, 0", kept)
    return ok
