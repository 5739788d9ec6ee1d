"""Starknet field elements (felts) and the Cairo encodings ERC-20 views return in them.

A felt is an integer below the STARK prime; the JSON-RPC API writes it as `0x` hex without
leading zeros. Token views answer with arrays of felts: `balanceOf` a u256 as `[low, high]`,
`symbol`/`name` a Cairo short string (one felt of big-endian ASCII, at most 31 bytes) on older
contracts or a `ByteArray` (`[n, word_0 .. word_n-1, pending_word, pending_word_len]`, each
full word 31 bytes) on newer ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from eth_utils.crypto import keccak

from core.text import printable

FELT_PRIME = 2**251 + 17 * 2**192 + 1
ADDRESS_BOUND = 2**251
"""Contract addresses are below 2**251 (Starknet's address domain)."""

_HEX_FELT = re.compile(r"0x[0-9a-fA-F]{1,64}")
_WORD_BYTES = 31
_MAX_BYTE_ARRAY_WORDS = 1024  # 31 KiB of text: far beyond any token name


def selector(name: str) -> int:
    """`sn_keccak`: the entry point selector of a Cairo function, keccak256 cut to 250 bits."""
    return int.from_bytes(keccak(text=name), "big") & (2**250 - 1)


def to_hex(value: int) -> str:
    """A felt in the API's canonical spelling: `0x` and no leading zeros."""
    return hex(value)


def parse_felt(value: Any) -> int | None:
    """A felt from a node's answer (any case, padded or not), or `None` if it is not one."""
    if not isinstance(value, str) or not _HEX_FELT.fullmatch(value):
        return None
    number = int(value, 16)
    return number if number < FELT_PRIME else None


def parse_felts(value: Any) -> list[int] | None:
    """A `starknet_call` result (an array of felts), or `None` when it is malformed."""
    if not isinstance(value, list):
        return None
    felts = [parse_felt(item) for item in value]
    return None if any(f is None for f in felts) else [f for f in felts if f is not None]


def decode_u256(felts: Sequence[int]) -> int | None:
    """`[low, high]` (each below 2**128) as one integer; a lone felt from old contracts too."""
    if len(felts) == 1:
        return felts[0] if felts[0] < ADDRESS_BOUND else None
    if len(felts) == 2 and all(limb < 2**128 for limb in felts):
        return felts[0] + (felts[1] << 128)
    return None


def decode_decimals(felts: Sequence[int]) -> int | None:
    """`decimals()`: one felt holding a u8."""
    return felts[0] if len(felts) == 1 and felts[0] < 256 else None


def decode_text(felts: Sequence[int]) -> str | None:
    """`symbol()`/`name()`: a short string or a `ByteArray`; `None` when neither is readable."""
    return decode_short_string(felts) or decode_byte_array(felts)


def decode_short_string(felts: Sequence[int]) -> str | None:
    if len(felts) != 1 or felts[0] >= 2 ** (8 * _WORD_BYTES):
        return None
    value = felts[0]
    return printable(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def decode_byte_array(felts: Sequence[int]) -> str | None:
    if len(felts) < 3:
        return None
    words, pending, pending_len = felts[0], felts[-2], felts[-1]
    if words > _MAX_BYTE_ARRAY_WORDS or len(felts) != words + 3 or pending_len >= _WORD_BYTES:
        return None
    full = felts[1 : 1 + words]
    if any(word >= 2 ** (8 * _WORD_BYTES) for word in full) or pending >= 2 ** (8 * pending_len):
        return None
    raw = b"".join(word.to_bytes(_WORD_BYTES, "big") for word in full)
    return printable(raw + pending.to_bytes(pending_len, "big"))
