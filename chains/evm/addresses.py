"""EVM address parsing: accept any case, answer EIP-55 checksummed, reject typos."""

from __future__ import annotations

import re

from eth_utils.address import to_checksum_address

from chains.errors import InvalidAddress
from chains.models import NATIVE_ALIASES, NATIVE_TOKEN, TokenRef
from chains.text import excerpt

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
    checksummed: str = to_checksum_address(candidate)
    digits = candidate[2:]
    mixed_case = digits != digits.lower() and digits != digits.upper()
    if mixed_case and candidate != checksummed:
        raise InvalidAddress(
            f"{excerpt(text)} has an invalid EIP-55 checksum (did you mean {checksummed}?)"
        )
    return checksummed


def normalize_evm_token(text: str) -> TokenRef:
    """A token argument: `native` (or the 0xEeee… alias), a contract address, or
    `<contract>:<token id>` for one ERC-1155 token id (decimal). The one place that syntax
    is parsed; everything downstream holds the `TokenRef`."""
    if text.strip().lower() in NATIVE_ALIASES:
        return NATIVE_TOKEN
    contract, colon, token_id = text.strip().partition(":")
    if not colon:
        return TokenRef(checksum_evm_address(contract))
    if not _TOKEN_ID.fullmatch(token_id) or int(token_id) >= 2**256:
        raise InvalidAddress(
            f"{excerpt(text)}: an ERC-1155 token is <contract>:<token id> "
            "with a decimal id below 2^256"
        )
    return TokenRef(checksum_evm_address(contract), int(token_id))
