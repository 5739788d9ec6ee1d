"""What following one chain takes: where its heads come from, and how one block is read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from chains.cache.store import ReadingStore
from chains.heads import SharedHeads
from chains.live.headers import HeadSource
from core.errors import ChainError
from core.models import BalanceKey, BalanceReading
from settings import Secret

BlockReader = Callable[[Sequence[BalanceKey], int], Awaitable[list[BalanceReading | ChainError]]]
"""Reads balances as of one block (a family's `read_block`), each value or error in place."""


@dataclass(frozen=True)
class LiveChain:
    """What following one chain takes: where heads come from and how a block is read."""

    chain: str
    heads: HeadSource
    shared: SharedHeads
    read: BlockReader
    store: ReadingStore
    interval: float
    full_refresh_blocks: int
    ws_urls: tuple[Secret, ...] = ()
    bloom: bool = False
    """Whether headers carry a `logsBloom` this chain's token rows may be filtered by (EVM)."""
