"""The Redis breaker opens on repeated failures, and times Redis by the loop's attention.

Issue 18, defect 6: on a healthy local Redis, a burst of keyed requests got
METERING_UNAVAILABLE (59 of 100): one 250 ms timeout, measured on an event loop busy with
the burst, opened the breaker for all keyed traffic.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

import pytest

from chains.cache.breaker import Breaker
from graph.services import open_services
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from metering.store import Charge
from tests.graph.conftest import offline_settings


def work(seconds: float) -> None:
    """Keep the CPU (and so the event loop) busy for `seconds`."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_one_failure_never_opens_it_three_in_a_row_do() -> None:
    breaker = Breaker("redis", cooldown=60)
    calls: list[bool] = []

    async def operation(fails: bool) -> str:
        calls.append(fails)
        if fails:
            raise ConnectionError("reset")
        return "answer"

    for fails in (True, False, True, True, False):  # never three failures in a row
        expected = "fallback" if fails else "answer"
        assert await breaker.run(partial(operation, fails), "fallback") == expected
        assert breaker.healthy
    for _ in range(3):
        await breaker.run(lambda: operation(True), "fallback")
    assert not breaker.healthy
    assert await breaker.run(lambda: operation(False), "fallback") == "fallback"  # skipped
    assert len(calls) == 8


async def test_a_hung_backend_times_out_after_the_loops_attention_not_before() -> None:
    breaker = Breaker("redis", cooldown=5, timeout=0.2, threshold=1)
    started = time.monotonic()
    assert await breaker.run(lambda: asyncio.sleep(30, "answer"), "fallback") == "fallback"
    assert 0.2 <= time.monotonic() - started < 1 and not breaker.healthy


@pytest.mark.integration
def test_a_busy_event_loop_does_not_read_as_a_redis_failure(redis_url: str, tmp_path: Path) -> None:
    cache = {"redis_url": redis_url, "redis_timeout": 0.25, "redis_retry_after": 60}
    settings = offline_settings(tmp_path, cache=cache)

    async def scenario() -> None:
        services = open_services(settings)
        store = services.pipeline.meter.store
        assert isinstance(store, RedisStore)
        key = keys.new_key()
        await store.create(KeyRecord(keys.digest(key), "busy", None, 10**6, False, time.time()))
        charge = Charge(f"key:{keys.digest(key)}", keys.digest(key), (), 1)

        async def request() -> str:
            work(0.01)  # the request's own CPU before metering: parsing, planning
            return (await store.charge(charge)).outcome

        try:
            # A burst of 100 keyed requests: the loop is busy for a second with their CPU,
            # while Redis answers each command at once.
            outcomes = await asyncio.gather(*(request() for _ in range(100)))
            assert outcomes == ["admitted"] * 100
            assert services.redis_breaker.healthy
        finally:
            await services.close()

    asyncio.run(scenario())
