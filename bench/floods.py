"""`make abuse`, issue 18 defects 1, 2 and 6: floods of free requests against the caches.

1. 10,000 distinct anonymous answers (`{ a: __typename }` with a new variable each): the
   answer cache counted 22 bytes for each while it held ~4 KB (1 MiB grew RSS by ~200 MB).
2. 10,000 distinct documents: the document cache held ~3 KB for each 17 bytes it counted.
6. 300 distinct introspection answers, each written to Redis for its remaining life (2,000
   added 116 MB), and a burst of 100 keyed requests, 59 of which got METERING_UNAVAILABLE
   from one timeout measured on a busy event loop.

Each prints what an operator would see: the server's RSS, Redis's own memory count, status
codes; and exits 1 (through `report`) when a bound does not hold.
"""

from __future__ import annotations

from collections import Counter

import httpx

from bench.harness import report
from bench.probes import flood, rss_mb
from chains.cache.clients import redis_client
from settings import CacheConfig

CACHE_BYTES = 1024 * 1024
"""`response_cache_bytes` and `[documents] cache_bytes` of the abuse server."""
SHARED_BYTES = 2 * 1024 * 1024
"""`response_cache_shared_bytes` of the abuse server."""
FLOOD = 10_000
INTROSPECTION = "query($x: Int) { __schema { types { name fields { name type { name } } } } }"
BALANCE = """query($a: String!) { balance(account: $a, chain: "devnet", token: "native") {
  rawAmount } }"""


async def caches(http: httpx.AsyncClient, pid: int) -> bool:
    """Defects 1 and 2: RSS grows by the caches' bytes, not by what the flood sends."""
    ok = True
    before = rss_mb(pid)
    answers = [{"query": "{ a: __typename }", "variables": {"x": i}} for i in range(FLOOD)]
    statuses = Counter(r.status_code for r in await flood(http, answers))
    grown = rss_mb(pid) - before
    ok &= report("answer flood", f"{grown:+8.1f} MB", "< +16 MB", grown < 16 and _all_ok(statuses))
    before = rss_mb(pid)
    documents = [{"query": f"{{ a{i}: __typename }}"} for i in range(FLOOD)]
    statuses = Counter(r.status_code for r in await flood(http, documents))
    grown = rss_mb(pid) - before
    ok &= report("document flood", f"{grown:+8.1f} MB", "< +8 MB", grown < 8 and _all_ok(statuses))
    print(f"    ({FLOOD:,} requests each; RSS now {rss_mb(pid):.0f} MB)")
    return ok


async def redis_writes(http: httpx.AsyncClient, redis_url: str, key: str) -> bool:
    """Defect 6: what one process writes to Redis, and keyed bursts on a busy loop."""
    ok = True
    redis = redis_client(CacheConfig.model_validate({"redis_url": redis_url}), timeout=5)
    assert redis is not None
    async with redis:
        await flood(http, [{"query": INTROSPECTION, "variables": {"x": i}} for i in range(300)], 8)
        stored = 0
        async for name in redis.scan_iter(match="bg:v1:resp:*", count=1000):
            stored += await redis.memory_usage(name) or 0
    mib = stored / 1024 / 1024
    ok &= report("answers in Redis", f"{mib:8.2f} MiB", "<= 2 MiB", stored <= SHARED_BYTES)
    burst = [{"query": BALANCE, "variables": {"a": "0x" + "00" * 19 + "01"}}] * 100
    headers = {"x-api-key": key}
    keyed = Counter(r.status_code for r in await flood(http, burst, 100, headers=headers))
    refused = keyed.get(503, 0)
    ok &= report("keyed burst 503s", f"{refused:8d} /100", "0", refused == 0)
    return ok


def _all_ok(statuses: Counter[int]) -> bool:
    return set(statuses) == {200}
