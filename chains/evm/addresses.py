"""EVM address parsing: accept any case, answer EIP-55 checksummed, reject typos."""

from __future__ import annotations

import re
from functools import lru_cache

from eth_utils.crypto import keccak

from core.errors import InvalidAddress
from core.models import NATIVE_ALIASES, NATIVE_TOKEN, TokenRef
from core.text import excerpt

_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_TOKEN_ID = re.compile(r"[0-9]{1,78}")


def checksum_evm_address(text: str) -> str:
    """Return `text` as an EIP-55 checksummed address.

    All-lower and all-upper hex are accepted as they are; mixed case must carry a valid
    checksum, because a wrong one almost always means a mistyped address.
    """
    candidate = text.strip()
    if not _HEX_ADDRESS.fullmatch(candidate):
        raise InvalidAddress(
            f"{excerpt(text)} is not an EVM address (0x followed by 40 hex digits)"
        )
    digits = candidate[2:]
    checksummed = _eip55(digits.lower())
    mixed_case = digits != digits.lower() and digits != digits.upper()
    if mixed_case and candidate != checksummed:
        raise InvalidAddress(
            f"{excerpt(text)} has an invalid EIP-55 checksum (did you mean {checksummed}?)"
        )
    return checksummed


@lru_cache(maxsize=16_384)
def _eip55(digits: str) -> str:
    """EIP-55 of 40 lower-case hex digits: a letter is upper case where the keccak of the
    digits has a nibble >= 8. Remembered, because the same few thousand addresses (token
    lists, popular wallets) arrive in every request and the hash dominated a warm one."""
    nibbles = keccak(text=digits).hex()
    return "0x" + "".join(
        c.upper() if n >= "8" else c for c, n in zip(digits, nibbles, strict=False)
    )


def normalize_evm_token(text: str) -> TokenRef:
    """A token argument: `native` (or the 0xEeee… alias), a contract address, or
    `<contract>:<token id>` for one ERC-1155 token id (decimal). The one place that syntax
    is parsed; everything downstream holds the `TokenRef`."""
    return _token(text.strip())


@lru_cache(maxsize=16_384)
def _token(text: str) -> TokenRef:
    """Remembered (by the stripped text, at most ~130 characters when valid): the cost model
    and the resolver both parse every request's tokens. A refusal is raised, never kept."""
    if text.lower() in NATIVE_ALIASES:
        return NATIVE_TOKEN
    contract, colon, token_id = text.partition(":")
    if not colon:
        return TokenRef(checksum_evm_address(contract))
    if not _TOKEN_ID.fullmatch(token_id) or int(token_id) >= 2**256:
        raise InvalidAddress(
            f"{excerpt(text)}: an ERC-1155 token is <contract>:<token id> "
            "with a decimal id below 2^256"
        )
    return TokenRef(checksum_evm_address(contract), int(token_id))
