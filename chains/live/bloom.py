"""The logs bloom of an EVM header, as an exact pre-filter for token balances.

A block's `logsBloom` sets three of its 2,048 bits for every log's address and every topic
(the low 11 bits of the first three byte pairs of its keccak-256). A bloom has false
positives, never false negatives: when the token contract's address or the account (as a
32-byte topic) is missing from it, no log of that contract names that account in a topic in
this block, so no `Transfer` (ERC-20/721), `TransferSingle`/`TransferBatch` (ERC-1155),
`Deposit`/`Withdrawal` (WETH) moved that balance. Native balances move without logs and are
never filtered; balances that move without an event (rebasing tokens) are caught by the
follower's periodic full read.
"""

from __future__ import annotations

from functools import lru_cache

from eth_utils.crypto import keccak

BITS = 2048


@lru_cache(maxsize=65_536)
def _positions(item: bytes) -> tuple[int, int, int]:
    digest = keccak(item)
    return tuple(  # type: ignore[return-value]
        ((digest[i] << 8) | digest[i + 1]) & (BITS - 1) for i in (0, 2, 4)
    )


def contains(bloom: bytes, item: bytes) -> bool:
    """Whether `item` may be in the bloom (`False`: it certainly is not)."""
    return all(bloom[len(bloom) - 1 - bit // 8] & (1 << (bit % 8)) for bit in _positions(item))


def may_move(bloom: bytes, contract: str, account: str) -> bool:
    """Whether a log of `contract` naming `account` in a topic may be in the block."""
    address = bytes.fromhex(contract[2:])
    topic = bytes(12) + bytes.fromhex(account[2:])
    return contains(bloom, address) and contains(bloom, topic)
