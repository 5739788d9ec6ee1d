"""Whole answers kept for identical requests (issue 10): exactly as fresh as their fields,
never across callers, still limited and charged, never with errors or `forceRefresh`.

First `ResponseCache` alone on a controlled clock, then through the whole app offline, where
the fake Starknet node records every batch it is sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

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


def cache(max_bytes: int = 1000) -> tuple[ResponseCache, Clock]:
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
    responses, clock = cache(max_bytes=800)
    for name in "abcdefgh":
        asyncio.run(responses.put(name, b"y" * 100, clock.now + 60))
    asyncio.run(responses.put("i", b"z" * 100, clock.now + 60))
    assert get(responses, "a") is None and get(responses, "i") == b"z" * 100
    asyncio.run(responses.put("big", b"w" * 101, clock.now + 60))  # over 800 / 8
    assert get(responses, "big") is None and get(responses, "b") is not None


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
        one = ResponseCache(1000, Metrics(), shared, clock)
        other = ResponseCache(1000, Metrics(), shared, clock)
        try:
            await one.put(key, b"answer", clock.now + 30)
            found = await other.get(key)
            assert found is not None
            assert (found.body, found.expires) == (b"answer", clock.now + 30)
            clock.now += 30
            assert await other.get(key) is None  # kept locally too, and expired there as well
            assert await ResponseCache(1000, Metrics(), shared, clock).get(key) is None
        finally:
            await shared.close()

    asyncio.run(scenario())


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
