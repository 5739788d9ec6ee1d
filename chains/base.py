"""The contract between the cache layer and a chain family.

Implementations: `chains.evm.EvmProvider` (Multicall3). A provider is batch-first: one
`read` takes every lookup of one round for its chain and answers them all, each value or
error in place, so callers never pay one upstream round per pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from chains.errors import ChainError
from chains.models import BalanceKey, BalanceReading, ChainFamily, TokenMeta


@dataclass(frozen=True)
class Reading:
    """The answer to one `read`: same length and order as the request's lists."""

    balances: list[BalanceReading | ChainError]
    tokens: list[TokenMeta | ChainError]


class ChainProvider(Protocol):
    """Reads balances and token metadata of one chain.

    - `normalize_account` / `normalize_token` parse user input into the canonical form of
      the family (raising `InvalidAddress`); keys given to `read` are already canonical.
    - `read` must not raise for a failure of the node or of one key: it returns a
      `ChainError` in that key's place. Values of one upstream call share one block.
    """

    family: ChainFamily

    def normalize_account(self, text: str) -> str: ...

    def normalize_token(self, text: str) -> str: ...

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[str]) -> Reading: ...
