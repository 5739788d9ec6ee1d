"""How many blocks to ask a node for at once: a span that adapts to what the node accepts.

Nodes cap log queries by range ("block range too large") or by result size ("more than
10000 results"), and the cap that bites depends on how dense the events are. The span starts
at the chain's `log_range`; a refusal (`RangeTooLarge`, or a range too slow to answer) halves
it, or takes the range end the node suggested; each success grows it again, up to
`log_range_max` and below the last span refused, which is forgotten after `FORGET_AFTER`
successes (density changes along a chain). Growth doubles the span, or, given a `target` of
results per answer and the results just seen, moves it toward that density (at most doubled,
at most halved): a dense stretch never grows into a node's result cap by itself.
"""

from __future__ import annotations

FORGET_AFTER = 8
RESULT_BYTES = 1024
"""An upper bound of one log's (or event's) JSON in an answer: a Transfer log is ~650."""


def results_within(max_response_bytes: int) -> int:
    """The results an answer should hold at most: a quarter of the response cap's worth."""
    return max(1, max_response_bytes // (4 * RESULT_BYTES))


class AdaptiveSpan:
    """The span of the next request of one scanner (one per chain and kind of scan)."""

    def __init__(self, start: int, maximum: int, target: int | None = None) -> None:
        self.span = start
        self._max = maximum
        self._target = target
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

    def accepted(self, results: int | None = None, blocks: int | None = None) -> None:
        """The node answered the last range (`blocks` wide, by default the span: a window
        clipped at its end is narrower), with `results` results if they were counted."""
        self._successes += 1
        if self._ceiling is not None and self._successes >= FORGET_AFTER:
            self._ceiling = None
        limit = self._max if self._ceiling is None else min(self._ceiling, self._max)
        wanted = self.span * 2
        if self._target is not None and results:  # the density seen, over what was read
            wanted = max((blocks or self.span) * self._target // results, self.span // 2)
        self.span = max(1, min(limit, self.span * 2, wanted))
