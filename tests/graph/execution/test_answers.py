"""Whole answers kept for identical requests (issue 10): exactly as fresh as their fields,
never across callers, still limited and charged, never with errors or `forceRefresh`.

First `ResponseCache` alone on a controlled clock, then through the whole app offline, where
the fake Starknet node records every batch it is sent.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from chains.cache.redis import RedisCache
from core.metrics import Metrics
from graph.execution.answers import MIN_LIFETIME, ResponseCache
from settings import Secret, Settings
from tests.conftest import credits, issue_key
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def cache(max_bytes: int = 100_000) -> tuple[ResponseCache, Clock]:
    clock = Clock()
    return ResponseCache(max_bytes, Metrics(), None, clock), clock


def get(responses: ResponseCache, key: str) -> bytes | None:
    found = asyncio.run(responses.get(key))
    return None if found is None else found.body


def test_an_answer_is_served_until_it_would_break_its_freshness() -> None:
    responses, clock = cache()
    asyncio.run(responses.put("k", b"answer", clock.now + 10))
    assert get(responses, "k") == b"answer"
    clock.now += 10 - MIN_LIFETIME - 0.01
    assert get(responses, "k") == b"answer"
    clock.now += 0.02  # less than MIN_LIFETIME left: as good as expired
    assert get(responses, "k") is None
    asyncio.run(responses.put("short", b"x", clock.now + MIN_LIFETIME / 2))
    assert get(responses, "short") is None  # not worth keeping at all


def test_entries_are_bounded_in_bytes_oldest_out_and_none_over_an_eighth() -> None:
    probe, clock = cache()
    asyncio.run(probe.put("a", b"y" * 100, clock.now + 60))
    size = probe.held  # the key, the body and the entry's overhead
    assert size > 100
    responses, clock = cache(max_bytes=8 * size)
    for name in "abcdefgh":
        asyncio.run(responses.put(name, b"y" * 100, clock.now + 60))
    asyncio.run(responses.put("i", b"z" * 100, clock.now + 60))
    assert get(responses, "a") is None and get(responses, "i") == b"z" * 100
    asyncio.run(responses.put("j", b"w" * 101, clock.now + 60))  # over an eighth
    assert get(responses, "j") is None and get(responses, "b") is not None


def test_what_the_cache_holds_in_memory_stays_within_its_bytes() -> None:
    """Issue 18, defect 1: 22-byte answers made by orjson (each holding a ~4 KB allocation),
    under 64-hex-digit keys, held ~200x the byte limit. Measured by tracemalloc, not by the
    cache's own count: keys, entries, slots and exact-size copies are all within it."""
    limit = 256 * 1024
    responses, clock = cache(max_bytes=limit)

    async def flood() -> None:
        for i in range(20_000):
            body = orjson.dumps({"data": {"a": "Query"}})
            await responses.put(ResponseCache.key("ip:1", str(i)), body, clock.now + 60)

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        asyncio.run(flood())
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= limit * 1.1, f"{held:,} bytes held for a {limit:,}-byte cache"
    newest = ResponseCache.key("ip:1", "19999")
    assert get(responses, newest) == b'{"data":{"a":"Query"}}'


def test_entries_are_capped_in_number_too() -> None:
    responses = ResponseCache(10**9, Metrics(), None, Clock(), max_entries=3)
    for name in "abcd":
        asyncio.run(responses.put(name, b"x", time.time() + 60))
    assert [get(responses, name) for name in "abcd"] == [None, b"x", b"x", b"x"]


def test_keys_never_cross_caller_scopes() -> None:
    keys = {ResponseCache.key(scope, "fingerprint") for scope in ("anonymous", "k1", "k2")}
    assert len(keys) == 3
    assert ResponseCache.key("k1", "fingerprint") == ResponseCache.key("k1", "fingerprint")


@pytest.mark.integration
def test_the_shared_tier_serves_other_processes_for_the_remaining_life(redis_url: str) -> None:
    """On a real Redis: what one process kept, another serves until it expires."""
    key = uuid.uuid4().hex

    async def scenario() -> None:
        shared = RedisCache.from_url(Secret(redis_url))
        clock = Clock()
        one = ResponseCache(10**5, Metrics(), shared, clock)
        other = ResponseCache(10**5, Metrics(), shared, clock)
        try:
            await one.put(key, b"answer", clock.now + 30)
            found = await other.get(key)
            assert found is not None
            assert (found.body, found.expires) == (b"answer", clock.now + 30)
            clock.now += 30
            assert await other.get(key) is None  # kept locally too, and expired there as well
            assert await ResponseCache(10**5, Metrics(), shared, clock).get(key) is None
        finally:
            await shared.close()

    asyncio.run(scenario())


@pytest.mark.integration
def test_what_a_process_writes_to_redis_stays_within_its_budget(redis_url: str) -> None:
    """Issue 18, defect 6: every distinct answer was written to Redis for its remaining life
    (2,000 introspection answers added 116 MB), evicting balances and timelines beside them.
    Measured by Redis (`MEMORY USAGE`): at most the default 8 MiB per process."""
    names = [uuid.uuid4().hex for _ in range(200)]

    async def scenario() -> int:
        shared = RedisCache.from_url(Secret(redis_url))
        responses = ResponseCache(16 * 1024 * 1024, Metrics(), shared)
        try:
            for name in names:  # 200 answers of 64 KB: 12.5 MiB
                await responses.put(name, name.encode() * 2048, time.time() + 60)
            async with Redis.from_url(redis_url) as client:  # Redis's own count, not ours
                used = [await client.memory_usage(f"bg:v1:resp:{n}") for n in names]
            assert await responses.get(names[-1]) is not None  # kept here all the same
            return sum(u or 0 for u in used)
        finally:
            await shared.close()

    stored = asyncio.run(scenario())
    assert 4 * 1024 * 1024 < stored <= 8 * 1024 * 1024, f"{stored:,} bytes in Redis"


# --- through the app ---------------------------------------------------------------------------

BALANCE = """query($a: String!, $m: Int, $f: Boolean) {
  balance(account: $a, chain: "starknet", token: "native", maxAge: $m, forceRefresh: $f) {
    rawAmount lastUpdated } }"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    limits = {"anonymous": {"balance": "4/min"}, "plans": {}}
    return offline_settings(tmp_path, rate_limits=limits, auth={"data_dir": str(tmp_path / "data")})


@pytest.fixture
def offline(settings: Settings) -> Iterator[Offline]:
    yield from offline_service(settings)


def ask(offline: Offline, variables: dict[str, Any], **headers: str) -> httpx.Response:
    body = {"query": BALANCE, "variables": {"a": stark.ALICE, **variables}}
    response: httpx.Response = offline.api.client.post("/graphql", json=body, headers=headers)
    assert response.status_code in (200, 429), response.text
    return response


def hits(offline: Offline) -> int:
    return offline.api.services.metrics.response_cache.get(result="hit")


def test_a_repeated_request_is_served_kept_and_still_limited(offline: Offline) -> None:
    first = ask(offline, {})
    batches = len(offline.node.batches)
    second, third = ask(offline, {}), ask(offline, {})
    assert second.content == third.content == first.content
    assert hits(offline) == 2 and len(offline.node.batches) == batches
    fourth, fifth = ask(offline, {}), ask(offline, {})
    assert fourth.status_code == 200 and fifth.status_code == 429  # the limit is 4/min
    assert hits(offline) == 3


def test_each_key_has_its_own_answers_and_pays_for_kept_ones(
    settings: Settings, offline: Offline
) -> None:
    alice = issue_key(settings, "alice", credits=10)
    bob = issue_key(settings, "bob", credits=10)
    ask(offline, {}, **{"x-api-key": alice})
    assert hits(offline) == 0
    kept = ask(offline, {}, **{"x-api-key": alice})
    assert hits(offline) == 1 and credits(kept) == ("1", "8")  # served from the cache, charged
    ask(offline, {}, **{"x-api-key": bob})
    ask(offline, {})
    assert hits(offline) == 1  # neither bob nor an anonymous caller got alice's answer


def test_forced_and_failed_answers_are_never_kept(offline: Offline) -> None:
    for _ in range(2):
        ask(offline, {"f": True})
    bad = {
        "query": '{ balance(account: "0xnope", chain: "starknet", token: "native") { rawAmount } }'
    }
    for _ in range(2):
        response = offline.api.client.post("/graphql", json=bad)
        assert response.json()["errors"]
    assert hits(offline) == 0


def test_an_answer_is_not_served_once_its_oldest_value_is_older_than_max_age(
    offline: Offline,
) -> None:
    first = ask(offline, {"m": 2})
    assert ask(offline, {"m": 2}).content == first.content and hits(offline) == 1
    batches = len(offline.node.batches)
    time.sleep(2.1)
    later = ask(offline, {"m": 2})
    assert hits(offline) == 1 and len(offline.node.batches) > batches  # read the chain again
    assert (
        later.json()["data"]["balance"]["lastUpdated"]
        != first.json()["data"]["balance"]["lastUpdated"]
    )
