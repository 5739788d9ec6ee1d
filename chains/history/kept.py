"""What is final in history, kept in this process: scans, and the verdicts on timelines.

`Scans` holds timelines scanned up to a final block, for every chain of the process at
once, least recently used out first, with at most `budget` movements between them (about
`EVENT_BYTES` each: a byte budget). `TooLong` remembers the timelines found longer than the
event limit, and by which block. Final data never changes, so what is kept is only ever
dropped for room.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from chains.cache.lru import Lru
from chains.history.shared import Scan
from core.models import BalanceKey

Timeline = tuple[BalanceKey, int]
"""A timeline of a key from an origin block."""


class Scans:
    """Scans by (key, origin), least recently used out first, with at most `budget`
    movements across all of them."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held = 0
        self._entries: OrderedDict[tuple[BalanceKey, int], Scan] = OrderedDict()

    def get(self, key: tuple[BalanceKey, int]) -> Scan | None:
        scan = self._entries.get(key)
        if scan is not None:
            self._entries.move_to_end(key)
        return scan

    def put(self, key: tuple[BalanceKey, int], scan: Scan) -> None:
        old = self._entries.pop(key, None)
        self._held -= 0 if old is None else len(old.movements)
        self._entries[key] = scan
        self._held += len(scan.movements)
        while self._held > self._budget and len(self._entries) > 1:
            _, dropped = self._entries.popitem(last=False)
            self._held -= len(dropped.movements)


class TooLong:
    """Timelines found longer than the event limit, with the block they were found by: as
    events only accumulate, every window from the same origin reaching that block is too."""

    def __init__(self, size: int, retention: float, clock: Callable[[], float]) -> None:
        self._found: Lru[Timeline, int] = Lru(size, clock)
        self._retention = retention

    def found(self, timeline: Timeline, by: int) -> None:
        self._found.put(timeline, by, self._retention)

    def reaches(self, timeline: Timeline, end: int) -> bool:
        """Whether the window of `timeline` through block `end` is known to be too long."""
        by = self._found.get(timeline)
        return by is not None and end >= by
