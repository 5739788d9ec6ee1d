"""The two kinds of discovery source, and what they answer.

    RangeSource      reads which tokens moved to or from an account in a block range, one
                     upstream round at a time (the chain's own events: `logs`)
    IndexerSource    asks a third-party indexer which tokens the account holds, in one call

A range source's answers for final blocks never change, so the service keeps them and asks
only for blocks it has not seen; an indexer's answer is the whole set, kept for a short time.
Both raise `ChainError` for a failure; the service then tries the next source.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from chains.history.spans import AdaptiveSpan
from core.errors import RangeTooLarge
from core.models import TokenRef

Seen = dict[TokenRef, int]
"""Each token that moved, with the last block it moved in (for an indexer that does not say:
the block it answered at)."""


@dataclass(frozen=True)
class Chunk:
    """What one upstream round of a range source covered: blocks `start`..`end`."""

    start: int
    end: int
    seen: Seen


class RangeSource(Protocol):
    """Reads a chain's transfer events of one account, a block range at a time.

    `scan` covers blocks from `low` to `high` as far as one round allows (a span the node
    accepts), starting at `high` and going down when `downward`, else at `low` going up,
    and answers the span it covered and the tokens seen in it.
    """

    name: str

    async def scan(self, account: str, low: int, high: int, *, downward: bool) -> Chunk: ...


@runtime_checkable
class IndexerSource(Protocol):
    """Asks an indexer for every token `account` holds (or has held), at `head`."""

    name: str

    async def held(self, account: str, head: int) -> Seen: ...


def merge(into: Seen, seen: Seen) -> None:
    """Add `seen` to `into`, keeping each token's latest block."""
    for token, block in seen.items():
        if into.get(token, -1) < block:
            into[token] = block


Round = Callable[[int, int], Awaitable[tuple[Seen, int | None]]]
"""One upstream round over blocks `start`..`end`: the tokens seen and, when counted, the
results the node sent (for the span's density); `RangeTooLarge` when the node refuses it."""


async def scan_adaptively(
    span: AdaptiveSpan, chain: str, account: str, low: int, high: int, downward: bool, read: Round
) -> Chunk:
    """One `RangeSource.scan`: the widest range of `low`..`high` the node accepts, read by
    `read`, narrowed on each refusal down to a single block (refused too: the error stands)."""
    while True:
        start, end = span.window(low, high, downward=downward)
        try:
            seen, results = await read(start, end)
        except RangeTooLarge as exc:
            if start == end:  # one block is too much: nothing smaller to ask
                raise exc.about(chain=chain, account=account) from None
            span.refused(start, end, None if downward else exc.suggested_end)
            continue
        span.accepted(results, end - start + 1)
        return Chunk(start, end, seen)
