"""Starknet addresses: felts below 2**251, answered as `0x` + 64 lowercase hex digits."""

from __future__ import annotations

import re

from chains.starknet import felts
from core.errors import InvalidAddress
from core.text import excerpt

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{1,64}")


def normalize_address(text: str) -> str:
    """A Starknet address as `0x` + 64 lowercase hex digits; `InvalidAddress` otherwise."""
    candidate = text.strip()
    if not _ADDRESS.fullmatch(candidate):
        raise InvalidAddress(
            f"{excerpt(text)} is not a Starknet address (0x and 1 to 64 hex digits)"
        )
    value = int(candidate, 16)
    if value >= felts.ADDRESS_BOUND:
        raise InvalidAddress(f"{excerpt(text)} is not a Starknet address (must be below 2**251)")
    return f"0x{value:064x}"
