"""Sliding-window rate limits in integer arithmetic: the one definition every store follows.

A limit of `limit` per `period` keeps, per (subject, class, period), two counters: requests in
the current fixed window and in the one before. At `elapsed` ms into the current window the
estimate of the last `period` is

    used = previous x (period - elapsed) / period + current

(Cloudflare's sliding-window counter: exact for evenly spread traffic, and never lets a burst
at a window's edge double the limit, as fixed windows do). A request of `units` is admitted
when `used + units <= limit`. Everything is multiplied through by `period` so it stays in
integers: Python here, the Redis script (`redis_store.py`), and SQLite all agree to the
millisecond; a test replays one sequence through both.

`State` is what a store keeps; `evaluate` is the decision; times are unix milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    """A subject's counters for one class and period."""

    window: int
    """Index of the current fixed window: `now // period`."""
    current: int
    previous: int


@dataclass(frozen=True)
class Quota:
    """One class's limit as a request leaves it (response headers are made of these)."""

    limit: int
    remaining: int
    reset: int
    """When the full limit is available again (unix ms)."""
    retry: int | None
    """Refused: when this request would fit (unix ms); `None`: never, it exceeds the limit."""

    @property
    def admitted(self) -> bool:
        return self.retry is None and self.remaining >= 0


def roll(state: State | None, window: int) -> State:
    """`state` as seen from `window`: counters a window old become `previous`, older ones go.

    A clock that steps back (another replica's, a corrected one) keeps counting in the
    window it already reached rather than forgetting what it counted.
    """
    if state is None or state.window < window - 1:
        return State(window, 0, 0)
    if state.window == window - 1:
        return State(window, 0, state.current)
    return state


def evaluate(
    state: State | None, units: int, limit: int, period: int, now: int
) -> tuple[State, Quota]:
    """The counters after admitting `units` (unchanged when refused), and the quota left.

    A refused request has `remaining` -1 and a `retry` time (or none, when `units` alone is
    more than `limit`); an admitted one has `retry` None and `remaining` >= 0.
    """
    current = roll(state, now // period)
    start = current.window * period
    elapsed = min(max(now - start, 0), period)
    weighted = current.previous * (period - elapsed) + current.current * period
    if weighted + units * period <= limit * period:
        after = State(current.window, current.current + units, current.previous)
        left = (limit * period - weighted - units * period) // period
        return after, Quota(limit, left, _reset(after, start, period, now), None)
    refused = Quota(
        limit, -1, _reset(current, start, period, now), _retry(current, units, limit, period)
    )
    return current, refused


def _reset(state: State, start: int, period: int, now: int) -> int:
    """When both counters will have decayed to nothing."""
    if state.current:
        return start + 2 * period
    if state.previous:
        return start + period
    return now


def _retry(state: State, units: int, limit: int, period: int) -> int | None:
    """The first millisecond at which `units` more would fit, if nobody else asks meanwhile."""
    start = state.window * period
    if state.current + units <= limit:  # this window's `previous` share has to decay enough
        room = (limit - state.current - units) * period
        return start + period - room // state.previous
    if units > limit:
        return None
    # next window: this window's count becomes the decaying share
    room = (limit - units) * period
    return start + period + period - room // state.current
