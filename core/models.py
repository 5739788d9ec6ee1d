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


@dataclass(frozen=True)
class TokenRef:
    """A token's identity on its chain: a contract (or `native`), plus the id for one token of
    an ERC-1155 contract. Parsed once from input; `str()` is the canonical `contract[:id]`."""

    contract: str
    token_id: int | None = None

    def __str__(self) -> str:
        return self.contract if self.token_id is None else f"{self.contract}:{self.token_id}"

    @property
    def is_native(self) -> bool:
        return self.contract == NATIVE


NATIVE_TOKEN = TokenRef(NATIVE)
"""The chain's native asset (ETH on Ethereum, BTC on Bitcoin)."""


@dataclass(frozen=True)
class BalanceKey:
    """One (chain, account, token) lookup; account and token already normalized."""

    chain: str
    account: str
    token: TokenRef

    def __hash__(self) -> int:
        # Flat, not through TokenRef's generated hash: every lookup of every row hashes one.
        return hash((self.chain, self.account, self.token.contract, self.token.token_id))

    @property
    def labels(self) -> dict[str, str]:
        """The key as the strings an error names: `chain`, `account`, `token`."""
        return {"chain": self.chain, "account": self.account, "token": str(self.token)}


@dataclass(frozen=True)
class TokenMeta:
    """What we know about a token. `None` means unknown, never a default."""

    chain: str
    token: TokenRef
    standard: TokenStandard
    symbol: str | None
    name: str | None
    decimals: int | None
    logo: str | None = None
    spam: bool = False
    """Flagged as spam by the token list (`tags: ["spam"]`)."""
    garbled: bool = False
    """`decimals` is unknown because the answer was malformed, not because the contract has
    no `decimals()`: never kept as a fact, and retryable when reported."""

    @property
    def contract(self) -> str:
        return self.token.contract

    @property
    def token_id(self) -> int | None:
        return self.token.token_id


@dataclass(frozen=True)
class BalanceReading:
    """A raw balance as read from the chain, with the block and the time it was read."""

    key: BalanceKey
    raw_amount: int
    block_number: int | None
    read_at: datetime
    unconfirmed_delta: int | None = None
    """Pending (mempool) change on top of `raw_amount`, where the chain exposes one (Bitcoin)."""
