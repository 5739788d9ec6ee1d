"""What EVM nodes send as hex: `0x`-prefixed data and quantities, parsed strictly."""

from __future__ import annotations

from typing import Any


def hex_bytes(value: Any) -> bytes | None:
    """`0x`-prefixed hex data from a node, or `None` when it is not that."""
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        return None
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        return None


def hex_quantity(value: Any, *, digits: int = 64) -> int | None:
    """A `0x`-prefixed quantity of at most `digits` hex digits, or `None`."""
    if not isinstance(value, str) or not value.startswith("0x") or not 2 < len(value) <= digits + 2:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None
