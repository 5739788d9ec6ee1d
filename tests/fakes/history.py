"""A `HistorySource` with a scripted past, counting what it is asked (for `Timelines`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chains.history.base import Movement
from chains.history.budget import UNMETERED, ScanMeter
from core.errors import ChainError, UpstreamError
from core.models import BalanceKey, BalanceReading, TokenRef

READ_AT = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class ScriptedHistory:
    """Blocks 0..`head`, block n made at `genesis + spacing * n`; `moves` by (account, token)."""

    chain: str = "fake"
    head_block: int = 1_000
    genesis: int = 1_700_000_000
    spacing: int = 12
    moves: dict[tuple[str, TokenRef], list[Movement]] = field(default_factory=dict)
    first: int = 0
    stateful: bool = True
    calls: Counter[str] = field(default_factory=Counter)
    headers: int = 0
    failing: bool = False
    page: int = 100
    """Movements an upstream answer holds: the meter hears of them a page at a time."""
    pause: float = 0.0
    """Seconds each page takes."""

    async def head(self) -> int:
        self._called("head")
        return self.head_block

    async def block_times(self, blocks: Sequence[int]) -> dict[int, int]:
        self._called("block_times")
        self.headers += len(blocks)
        assert all(0 <= b <= self.head_block for b in blocks), blocks
        return {b: self.genesis + self.spacing * b for b in blocks}

    async def first_block(self, token: TokenRef) -> int:
        self._called("first_block")
        return self.first

    async def movements(
        self, account: str, token: TokenRef, start: int, end: int, meter: ScanMeter = UNMETERED
    ) -> list[Movement]:
        self._called("movements")
        assert start <= end <= self.head_block, (start, end)
        found = [m for m in self.moves.get((account, token), []) if start <= m.block_number <= end]
        for held in range(0, len(found), self.page):  # one "answer" a page
            meter.read(min(len(found), held + self.page))
            if self.pause:
                await asyncio.sleep(self.pause)
        return found

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError] | None:
        self._called("balances_at")
        if not self.stateful:
            return None
        return [
            BalanceReading(
                k,
                sum(
                    m.delta
                    for m in self.moves.get((k.account, k.token), [])
                    if m.block_number <= block
                ),
                block,
                READ_AT,
            )
            for k in keys
        ]

    def _called(self, method: str) -> None:
        self.calls[method] += 1
        if self.failing:
            raise UpstreamError(f"{self.chain} node is down", chain=self.chain)
