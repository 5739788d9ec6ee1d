"""What a block-range source has scanned of one account's history, and what it saw there.

Coverage is one contiguous span of final blocks, `low`..`high`, grown one chunk at a time:
upwards as new blocks become final, downwards towards the chain's first block worth scanning
(a cold scan starts at the newest final block, so what moved recently is found first). It
never changes for a block once scanned, so it is kept and shared.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from chains.discovery.base import Chunk, Seen, merge
from core.models import TokenRef


@dataclass(frozen=True)
class Coverage:
    """Blocks `low`..`high` scanned (none while `low > high`), each token seen there with
    the last block it moved in, and whether tokens beyond the limit were dropped (those
    least recently active go first)."""

    low: int
    high: int
    seen: Seen = field(default_factory=dict)
    truncated: bool = False

    @classmethod
    def empty(cls, top: int) -> Coverage:
        """Nothing scanned yet; the first chunk will end at `top`."""
        return cls(top + 1, top)

    @property
    def scanned(self) -> bool:
        return self.low <= self.high

    def grown(self, chunk: Chunk, limit: int) -> Coverage:
        """This coverage with `chunk` (adjacent above or below) added, at most `limit` tokens."""
        if self.scanned and chunk.start != self.high + 1 and chunk.end != self.low - 1:
            raise ValueError(f"chunk {chunk.start}..{chunk.end} is not next to {self}")
        seen = dict(self.seen)
        merge(seen, chunk.seen)
        kept, dropped = most_recent(seen, limit)
        low = min(self.low, chunk.start) if self.scanned else chunk.start
        high = max(self.high, chunk.end) if self.scanned else chunk.end
        return Coverage(low, high, kept, self.truncated or dropped)


def most_recent(seen: Seen, limit: int) -> tuple[Seen, bool]:
    """At most `limit` tokens, those that moved last first (ties: by token, for a stable
    answer); and whether any were dropped."""
    if len(seen) <= limit:
        return seen, False
    ranked = sorted(seen.items(), key=lambda item: (-item[1], str(item[0])))
    return dict(ranked[:limit]), True


def ranked(seen: Seen) -> list[TokenRef]:
    """Tokens, most recently active first."""
    return [t for t, _ in sorted(seen.items(), key=lambda item: (-item[1], str(item[0])))]


class Coverages:
    """Coverage by account, least recently used out first, with at most `budget` tokens
    across all of them (a wallet spammed by 2,000 contracts weighs 2,000)."""

    def __init__(self, budget: int, entries: int = 16_384) -> None:
        self._budget, self._max_entries = budget, entries
        self._held = 0
        self.generation = 0
        """Changes whenever an account's set of found tokens changes (or is dropped)."""
        self._entries: OrderedDict[str, Coverage] = OrderedDict()

    def get(self, account: str) -> Coverage | None:
        coverage = self._entries.get(account)
        if coverage is not None:
            self._entries.move_to_end(account)
        return coverage

    def put(self, account: str, coverage: Coverage) -> None:
        old = self._entries.pop(account, None)
        self._held -= 0 if old is None else len(old.seen)
        if old is None or old.seen.keys() != coverage.seen.keys():
            self.generation += 1
        self._entries[account] = coverage
        self._held += len(coverage.seen)
        while len(self._entries) > 1 and (
            self._held > self._budget or len(self._entries) > self._max_entries
        ):
            _, dropped = self._entries.popitem(last=False)
            self._held -= len(dropped.seen)
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)
