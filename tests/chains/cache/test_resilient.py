"""ResilientCache: a failing backend is a miss and a dropped write, logged once per outage."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import pytest

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


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == "chains.cache.resilient"
    ]


async def test_a_healthy_backend_is_passed_through() -> None:
    flaky = Flaky()
    cache = ResilientCache(flaky, "redis")
    await cache.set_many({"a": b"1"}, 60)
    assert await cache.get_many(["a", "b"]) == [b"1", None]
    assert cache.healthy


async def test_a_failing_backend_reads_as_misses_and_drops_writes() -> None:
    flaky = Flaky()
    cache = ResilientCache(flaky, "redis")
    await cache.set_many({"a": b"1"}, 60)
    flaky.down = True
    assert await cache.get_many(["a", "b", "a"]) == [None, None, None]
    await cache.set_many({"c": b"3"}, 60)  # does not raise
    assert not cache.healthy
    flaky.down = False
    assert await cache.get_many(["a", "c"]) == [b"1", None]  # the write was dropped


async def test_one_error_line_per_outage_and_one_line_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    flaky = Flaky()
    cache = ResilientCache(flaky, "redis")
    for outage in range(2):
        flaky.down = True
        for _ in range(5):
            await cache.get_many(["a"])
            await cache.set_many({"a": b"1"}, 60)
        flaky.down = False
        await cache.get_many(["a"])
        await cache.get_many(["a"])
        assert cache.healthy, outage
    unavailable = (
        logging.ERROR,
        "redis cache unavailable (ConnectionError); serving straight from the chain until it "
        "returns",
    )
    back = (logging.WARNING, "redis cache is back")
    assert lines(caplog) == [unavailable, back, unavailable, back]
    assert "hunter2" not in caplog.text  # only the exception's type is logged


async def test_empty_batches_never_reach_the_backend() -> None:
    flaky = Flaky()
    cache = ResilientCache(flaky, "redis")
    assert await cache.get_many([]) == []
    await cache.set_many({}, 60)
    assert flaky.calls == 0


async def test_a_failing_close_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    flaky = Flaky()
    flaky.close_fails = True
    await ResilientCache(flaky, "memory").close()
    assert lines(caplog) == [(logging.WARNING, "closing memory cache failed: OSError")]
