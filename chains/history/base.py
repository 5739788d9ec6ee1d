"""The contract between the history service and a chain family, and the values it speaks.

    HistorySource         head / block_times / first_block / movements / balances_at
    ├── EvmHistory        chains.evm.history       eth_getLogs (Transfer, TransferSingle/Batch)
    ├── StarknetHistory   chains.starknet.history  starknet_getEvents (Transfer)
    └── EsploraHistory    chains.bitcoin.history   /address/:a/txs/chain, paginated

A source answers for exact block ranges and never caches: `chains.history.timelines`
keeps what is final (at or below `head - finality_depth`) and asks a source only for the
blocks it has not seen. Every method raises `ChainError` for a failure (node trouble,
a pruned node: `ArchiveNodeRequired`, a family without the data: `HistoryUnavailable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chains.history.budget import UNMETERED, ScanMeter
from core.errors import ChainError, CostLimitExceeded
from core.models import BalanceKey, BalanceReading, TokenRef


@dataclass(frozen=True, order=True, slots=True)
class Movement:
    """One event that changed an (account, token) balance, in chain order.

    `order` sorts movements within a block (a log's index, a transaction's position); it is
    unique within a block for one (account, token). `delta` is signed and exact (a transfer
    to oneself is 0)."""

    block_number: int
    order: int
    transaction_hash: str
    log_index: int | None
    delta: int
    timestamp: int | None = None
    """Unix seconds of the block, when the source tells it for free (Esplora); else the
    history service reads the block's header."""


class HistorySource(Protocol):
    """Reads one chain's past.

    - `head` is the newest block number the node has.
    - `block_times` gives the unix timestamp of each block asked (any block at or below the
      head), batched where the family allows: one request, not one per block.
    - `first_block` is the first block worth scanning for `token`'s events (its contract's
      deployment block; 0 for a native asset whose history starts at genesis).
    - `movements` is every movement of `account`'s `token` balance in blocks `start` to
      `end` inclusive, ascending by (block, order); the whole range or an error. After each
      upstream answer it tells `meter` how many movements it holds, and stops with whatever
      that raises (a timeline too long, the process's scan budget spent).
    - `balances_at` reads balances as of the end of `block`, same length and order as
      `keys`, a `ChainError` in a key's place when that key failed; `None` when the family
      has no state to read at a block (Bitcoin: the service sums movements instead).
    """

    chain: str

    async def head(self) -> int: ...

    async def block_times(self, blocks: Sequence[int]) -> dict[int, int]: ...

    async def first_block(self, token: TokenRef) -> int: ...

    async def movements(
        self, account: str, token: TokenRef, start: int, end: int, meter: ScanMeter = UNMETERED
    ) -> list[Movement]: ...

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ChainError] | None: ...


def too_many_events(limit: int, key: BalanceKey) -> CostLimitExceeded:
    """Why a timeline longer than `limit` events is neither read on nor kept."""
    return CostLimitExceeded(
        f"this timeline has more than {limit} events; ask from a later fromBlock", **key.labels
    )
