"""Benchmark: what metering adds to a warm request, on each store, measured in one run.

Run with `make bench`. One warm `balance` query (answered from the in-process cache, so the
request is all our own overhead) is sent to one server, alternately:

    without a key   anonymous, and anonymous callers are not limited: no store call at all
    with a key      a key on a rate-limit plan with a credit balance: one atomic
                    check-and-charge per request (the key's record is looked up once, then
                    remembered for 10 s; the charge re-checks revocation)

on the SQLite store and on a real redis-server, and reports the keyed median beside the
unkeyed one, with the time metering adds. Alternating keeps drift (CPU frequency, other
load) out of the comparison. An
anonymous caller under limits pays the same single check-and-charge as a key.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import report, running
from chains.cache.clients import redis_client
from devnet.anvil import Anvil
from devnet.chain import DevChain
from devnet.redis import RedisServer
from devnet.sample import deploy_sample_tokens
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from metering.sqlite_store import SqliteStore
from settings import Settings, parse_settings

ROUNDS = 1_500
TARGET_ADDED_MS = 0.75
"""One store round trip (a Redis script, or a SQLite transaction on its thread) per request:
a warm answer takes ~1 ms here (from the answer cache), and metering may add at most this.
(A ratio stopped meaning much once the warm answer itself became that cheap.)"""
QUERY = '{ balance(account: "%s", chain: "devnet", token: "native") { rawAmount } }'
LIMITS = {"anonymous": {}, "plans": {"bench": {"balance": "1000000/min"}}}


def settings_for(tmp: Path, url: str, cache: dict[str, Any]) -> Settings:
    """One devnet chain at `url`, the `bench` plan, and `cache` as the `[cache]` table."""
    chain = {
        "family": "evm",
        "chain_id": 31337,
        "rpc_urls": [url],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
    }
    raw = {
        "chains": {"devnet": chain},
        "auth": {"data_dir": str(tmp / "data")},
        "rate_limits": LIMITS,
        "cache": cache,
    }
    return parse_settings(raw, base_dir=tmp, environ={})


@contextmanager
def store(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None
        return
    with RedisServer() as server:
        yield server.url


async def issue(settings: Settings) -> str:
    """A key on the `bench` plan with credits for every request."""
    key = keys.new_key()
    record = KeyRecord(keys.digest(key), "bench", "bench", 10 * ROUNDS, False, time.time())
    client = redis_client(settings.cache, timeout=5)
    if client is None:
        sqlite = SqliteStore(settings.auth.store_dir())
        await sqlite.create(record)
        await sqlite.aclose()
    else:
        await RedisStore(client).create(record)
        await client.aclose()
    return key


def measure(url: str, holder: str, key: str) -> dict[str, list[float]]:
    body = {"query": QUERY % holder}
    kinds: dict[str, dict[str, str]] = {"without a key": {}, "with a key": {"x-api-key": key}}
    times: dict[str, list[float]] = {name: [] for name in kinds}
    with httpx.Client(timeout=30) as client:
        for headers in kinds.values():  # warm the cache and the key's record
            assert client.post(url, json=body, headers=headers).status_code == 200
        for _ in range(ROUNDS):
            for name, headers in kinds.items():
                start = time.perf_counter()
                response = client.post(url, json=body, headers=headers)
                times[name].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text
    return times


def main() -> int:
    ok = True
    with Anvil() as anvil, DevChain(anvil.url) as chain:
        holder = chain.accounts()[1]
        deploy_sample_tokens(chain, [holder])
        for kind in ("sqlite", "redis"):
            with tempfile.TemporaryDirectory() as tmp, store(kind) as redis_url:
                cache = {"redis_url": redis_url} if redis_url else {}
                settings = settings_for(Path(tmp), anvil.url, cache)
                key = asyncio.run(issue(settings))
                with running(settings) as server:
                    times = measure(server.url, holder, key)
                    charged = server.services.metrics.key_credits.get(key="bench")
            without, keyed = (statistics.median(t) for t in times.values())
            print(f"warm `balance` on the {kind} store, {ROUNDS} requests each, alternating")
            report("without a key", f"{without:8.2f} ms", "baseline", True)
            added = keyed - without
            ok &= report(
                "with a key",
                f"{keyed:8.2f} ms  +{added:4.2f} ms (x{keyed / without:4.2f})",
                f"<= +{TARGET_ADDED_MS} ms",
                added <= TARGET_ADDED_MS,
            )
            ok &= report(
                "credits charged", f"{charged:8d}", f"== {ROUNDS + 1}", charged == ROUNDS + 1
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
