"""A circuit breaker for the shared store (Redis): a stalled Redis must cost microseconds.

With short socket timeouts alone, every request still waits one timeout while Redis is
frozen (SIGSTOP gave a p99 of 824 ms). After a failure the breaker opens: callers get their
fallback at once (a cache miss, a dropped write) for `cooldown` seconds; then one call
probes, and success closes it again. Everything that talks to Redis shares one breaker, so
one timeout is enough for all of them to step aside. Its state is `cache_backend_state`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Gauge

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CLOSED, HALF_OPEN, OPEN = 0, 1, 2


class Breaker:
    """Runs operations on a backend unless it failed lately; logs each outage once."""

    def __init__(
        self,
        name: str,
        *,
        cooldown: float,
        gauge: Gauge | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._cooldown = cooldown
        self._gauge = gauge
        self._clock = clock
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
            result = await operation()
        except Exception as exc:  # any backend failure: the caller goes on without it
            self._trip(exc)
            return fallback
        finally:
            if probe:
                self._probing = False
        self._recover()
        return result

    def _trip(self, exc: Exception) -> None:
        if self._opened_at is None:
            log.error(
                "%s unavailable (%s); going on without it until it answers again",
                self._name,
                type(exc).__name__,
            )
        self._opened_at = self._clock()
        self._publish(OPEN)

    def _recover(self) -> None:
        if self._opened_at is not None:
            self._opened_at = None
            log.warning("%s is back", self._name)
            self._publish(CLOSED)

    def _publish(self, state: int) -> None:
        if self._gauge is not None:
            self._gauge.set(state)
