"""A circuit breaker for the shared store (Redis): a stalled Redis must cost microseconds.

With short socket timeouts alone, every request still waits one timeout while Redis is
frozen (SIGSTOP gave a p99 of 824 ms). After `threshold` failures in a row the breaker
opens: callers get their fallback at once (a cache miss, a dropped write, a 503 for keyed
requests) for `cooldown` seconds; then one call probes, and success closes it again.
Everything that talks to Redis shares one breaker, so a few timeouts are enough for all of
them to step aside. Its state is `cache_backend_state`.

One failure alone never opens it, and a timeout is the breaker's own, counted in time the
event loop could have read the answer: a loop busy elsewhere for 400 ms (a burst of
requests being parsed) delays Redis's answer and the timer alike, and once read late
Redis's answer is an answer. Only `timeout` seconds of the loop's own attention without one
are a failure (the client's socket timeout is a looser backstop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Gauge

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CLOSED, HALF_OPEN, OPEN = 0, 1, 2
_SLICES = 5
"""A timeout is waited in this many slices; each counts at most its own length."""


class Breaker:
    """Runs operations on a backend unless it failed lately; logs each outage once."""

    def __init__(
        self,
        name: str,
        *,
        cooldown: float,
        threshold: int = 3,
        timeout: float | None = None,
        gauge: Gauge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._cooldown = cooldown
        self._threshold = threshold
        self._timeout = timeout
        self._gauge = gauge
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._publish(CLOSED)

    @property
    def healthy(self) -> bool:
        return self._opened_at is None

    async def run(self, operation: Callable[[], Awaitable[_T]], fallback: _T) -> _T:
        """`operation()`, or `fallback` when the backend is open, being probed, or fails."""
        probe = False
        if self._opened_at is not None:
            due = self._clock() - self._opened_at >= self._cooldown
            if not due or self._probing:
                return fallback
            probe = self._probing = True
            self._publish(HALF_OPEN)
        try:
            result = await self._attend(operation)
        except Exception as exc:  # any backend failure: the caller goes on without it
            self._failed(exc, probe)
            return fallback
        finally:
            if probe:
                self._probing = False
        self._recover()
        return result

    async def _attend(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """`operation()`, or `TimeoutError` after `timeout` seconds of the loop's attention."""
        if self._timeout is None:
            return await operation()
        task = asyncio.ensure_future(operation())
        loop, step, attended = asyncio.get_running_loop(), self._timeout / _SLICES, 0.0
        try:
            while attended < self._timeout:
                started = loop.time()
                await asyncio.wait((task,), timeout=step)
                if task.done():
                    return task.result()
                attended += min(loop.time() - started, step)  # lag is not Redis's
            raise TimeoutError(f"no answer in {self._timeout} s")
        finally:
            if not task.done():
                task.cancel()

    def _failed(self, exc: Exception, probe: bool) -> None:
        self._failures += 1
        if not probe and self._failures < self._threshold:
            log.info("%s failed (%s): %d in a row", self._name, type(exc).__name__, self._failures)
            return
        if self._opened_at is None:
            log.error(
                "%s unavailable (%s); going on without it until it answers again",
                self._name,
                type(exc).__name__,
            )
        self._opened_at = self._clock()
        self._publish(OPEN)

    def _recover(self) -> None:
        self._failures = 0
        if self._opened_at is not None:
            self._opened_at = None
            log.warning("%s is back", self._name)
            self._publish(CLOSED)

    def _publish(self, state: int) -> None:
        if self._gauge is not None:
            self._gauge.set(state)
