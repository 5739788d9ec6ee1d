"""Exact conversion of raw smallest-unit integers to decimal amounts."""

from __future__ import annotations

from decimal import Decimal


def scale_amount(raw: int, decimals: int) -> Decimal:
    """`raw / 10**decimals` exactly, whatever the size of `raw` (no context rounding)."""
    sign = 1 if raw < 0 else 0
    digits = tuple(int(d) for d in str(abs(raw)))
    return Decimal((sign, digits, -decimals))


def format_decimal(value: Decimal) -> str:
    """Plain positional notation without exponent or trailing fractional zeros: `1234.5`."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text
