"""ResilientCache on a Breaker: a sick backend is a miss and a dropped write, then skipped."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import pytest

from chains.cache.breaker import Breaker
from chains.cache.memory import MemoryCache
from chains.cache.resilient import ResilientCache


class Flaky:
    """A cache backend that raises `ConnectionError` while `down` (as Redis does)."""

    def __init__(self) -> None:
        self.backend = MemoryCache(100)
        self.down = False
        self.calls = 0
        self.close_fails = False

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self.calls += 1
        if self.down:
            raise ConnectionError("Error 111 connecting to redis://:hunter2@cache:6379")
        return await self.backend.get_many(keys)

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("connection reset")
        await self.backend.set_many(items, ttl)

    async def close(self) -> None:
        if self.close_fails:
            raise OSError("already closed")
        await self.backend.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resilient(flaky: Flaky, clock: Clock | None = None) -> ResilientCache:
    """Opening at the first failure: how many it takes is `test_breaker`'s business."""
    breaker = Breaker("redis", cooldown=5, threshold=1, clock=clock or Clock())
    return ResilientCache(flaky, breaker)


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "chains.cache.breaker"]


async def test_a_healthy_backend_is_passed_through() -> None:
    cache = resilient(Flaky())
    await cache.set_many({"a": b"1"}, 60)
    assert await cache.get_many(["a", "b"]) == [b"1", None]
    assert cache.healthy


async def test_a_failing_backend_reads_as_misses_drops_writes_then_is_skipped() -> None:
    flaky, clock = Flaky(), Clock()
    cache = resilient(flaky, clock)
    await cache.set_many({"a": b"1"}, 60)
    flaky.down = True
    assert await cache.get_many(["a", "b", "a"]) == [None, None, None]
    assert not cache.healthy
    calls = flaky.calls
    for _ in range(10):  # open: nobody waits on the sick backend any more
        await cache.set_many({"c": b"3"}, 60)
        assert await cache.get_many(["a"]) == [None]
    assert flaky.calls == calls
    flaky.down = False
    clock.now += 5  # the cool-down passed: the next call probes, and closes the breaker
    assert await cache.get_many(["a", "c"]) == [b"1", None]  # the writes were dropped
    assert cache.healthy and flaky.calls == calls + 1


async def test_a_failed_probe_opens_it_for_another_cool_down() -> None:
    flaky, clock = Flaky(), Clock()
    cache = resilient(flaky, clock)
    flaky.down = True
    await cache.get_many(["a"])
    clock.now += 5
    await cache.get_many(["a"])  # the probe fails
    calls = flaky.calls
    clock.now += 4
    await cache.get_many(["a"])
    assert flaky.calls == calls  # still open
    clock.now += 1
    await cache.get_many(["a"])
    assert flaky.calls == calls + 1


async def test_one_error_line_per_outage_and_one_line_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    flaky, clock = Flaky(), Clock()
    cache = resilient(flaky, clock)
    for outage in range(2):
        flaky.down = True
        for _ in range(5):
            await cache.get_many(["a"])
            await cache.set_many({"a": b"1"}, 60)
            clock.now += 5  # every call is a probe: still one line per outage
        flaky.down = False
        await cache.get_many(["a"])
        await cache.get_many(["a"])
        assert cache.healthy, outage
    unavailable = (
        logging.ERROR,
        "redis unavailable (ConnectionError); going on without it until it answers again",
    )
    back = (logging.WARNING, "redis is back")
    assert lines(caplog) == [unavailable, back, unavailable, back]
    assert "hunter2" not in caplog.text  # only the exception's type is logged


async def test_empty_batches_never_reach_the_backend() -> None:
    flaky = Flaky()
    cache = resilient(flaky)
    assert await cache.get_many([]) == []
    await cache.set_many({}, 60)
    assert flaky.calls == 0


async def test_a_failing_close_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    flaky = Flaky()
    flaky.close_fails = True
    await resilient(flaky).close()
    assert [r.getMessage() for r in caplog.records] == ["closing the cache failed: OSError"]
