"""Domain values shared by every layer: what we look up and what a chain told us."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

NATIVE = "native"
"""Canonical token address of a chain's native asset (ETH on Ethereum, BTC on Bitcoin)."""

NATIVE_ALIASES = frozenset({"native", "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"})
"""Spellings accepted on input for the native asset (compared lower-cased)."""


class TokenStandard(StrEnum):
    NATIVE = "NATIVE"
    ERC20 = "ERC20"
    ERC721 = "ERC721"
    ERC1155 = "ERC1155"


class ChainFamily(StrEnum):
    EVM = "evm"
    STARKNET = "starknet"
    BITCOIN = "bitcoin"


@dataclass(frozen=True, order=True)
class BalanceKey:
    """One (chain, account, token) lookup; account and token already normalized."""

    chain: str
    account: str
    token: str


@dataclass(frozen=True)
class TokenMeta:
    """What we know about a token. `None` means unknown, never a default."""

    chain: str
    address: str
    standard: TokenStandard
    symbol: str | None
    name: str | None
    decimals: int | None
    logo: str | None = None
    spam: bool = False
    """Flagged as spam by the token list (`tags: ["spam"]`)."""

    @property
    def contract(self) -> str:
        """The contract address (`address` of an ERC-1155 key also names the token id)."""
        return self.address.partition(":")[0]

    @property
    def token_id(self) -> int | None:
        _, _, token_id = self.address.partition(":")
        return int(token_id) if token_id else None


@dataclass(frozen=True)
class BalanceReading:
    """A raw balance as read from the chain, with the block and the time it was read."""

    key: BalanceKey
    raw_amount: int
    block_number: int | None
    read_at: datetime
    unconfirmed_delta: int | None = None
    """Pending (mempool) change on top of `raw_amount`, where the chain exposes one (Bitcoin)."""
