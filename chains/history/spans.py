"""How many blocks to ask a node for at once: a span that adapts to what the node accepts.

Nodes cap log queries by range ("block range too large") or by result size ("more than
10000 results"), and the cap that bites depends on how dense the events are. The span starts
at the chain's `log_range`; a refusal (`RangeTooLarge`) halves it, or takes the range end the
node suggested; each success doubles it again, up to `log_range_max` and below the last span
refused, which is forgotten after `FORGET_AFTER` successes (density changes along a chain).
"""

from __future__ import annotations

FORGET_AFTER = 8


class AdaptiveSpan:
    """The span of the next request of one scanner (one per chain and kind of scan)."""

    def __init__(self, start: int, maximum: int) -> None:
        self.span = start
        self._max = maximum
        self._ceiling: int | None = None
        self._successes = 0

    def window(self, low: int, high: int, *, downward: bool) -> tuple[int, int]:
        """The next range of `low`..`high` to ask for: its top `span` blocks going down, else
        its bottom ones."""
        if downward:
            return max(low, high - self.span + 1), high
        return low, min(high, low + self.span - 1)

    def refused(self, start: int, end: int, suggested_end: int | None = None) -> None:
        """The node refused `start`..`end`; a `suggested_end` inside it is taken as the span."""
        refused = end - start + 1
        self._ceiling = refused - 1
        self._successes = 0
        if suggested_end is not None and start <= suggested_end < end:
            self.span = suggested_end - start + 1
        else:
            self.span = max(1, refused // 2)

    def accepted(self) -> None:
        self._successes += 1
        if self._ceiling is not None and self._successes >= FORGET_AFTER:
            self._ceiling = None
        limit = self._max if self._ceiling is None else min(self._ceiling, self._max)
        self.span = max(self.span, min(limit, self.span * 2))
