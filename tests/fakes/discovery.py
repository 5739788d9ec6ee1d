"""Scripted discovery sources: a chain's transfers to and from accounts, and an indexer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from chains.discovery.base import Chunk, Seen
from core.errors import UpstreamError
from core.models import TokenRef


@dataclass
class ScriptedChain:
    """A chain whose head moves when told, and the blocks each account's tokens moved in."""

    head: int
    moves: dict[str, list[tuple[int, TokenRef]]] = field(default_factory=dict)
    head_reads: int = 0

    def move(self, account: str, block: int, token: TokenRef) -> None:
        self.moves.setdefault(account, []).append((block, token))

    async def read_head(self) -> int:
        self.head_reads += 1
        return self.head


@dataclass
class ScriptedRanges:
    """A `RangeSource` over a `ScriptedChain`: `span` blocks a round, `delay` seconds each,
    every range asked recorded; `failing` rounds raise node trouble."""

    chain: ScriptedChain
    span: int = 100
    delay: float = 0.0
    failing: bool = False
    name: str = "logs"
    asked: list[tuple[int, int]] = field(default_factory=list)

    async def scan(self, account: str, low: int, high: int, *, downward: bool) -> Chunk:
        start, end = (
            (max(low, high - self.span + 1), high)
            if downward
            else (low, min(high, low + self.span - 1))
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failing:
            raise UpstreamError("node down", chain="scripted")
        self.asked.append((start, end))
        seen: Seen = {}
        for block, token in self.chain.moves.get(account, []):
            if start <= block <= end and seen.get(token, -1) < block:
                seen[token] = block
        return Chunk(start, end, seen)


@dataclass
class ScriptedIndexer:
    """An `IndexerSource` answering from a fixed table (or failing)."""

    held_by: dict[str, Seen] = field(default_factory=dict)
    failing: bool = False
    name: str = "blockscout"
    calls: int = 0

    async def held(self, account: str, head: int) -> Seen:
        self.calls += 1
        if self.failing:
            raise UpstreamError("indexer down", chain="scripted")
        return dict(self.held_by.get(account, {}))
