"""Exact money: raw smallest-unit integers to decimal amounts, and exact USD arithmetic.

Python's default decimal context keeps 28 significant digits: a uint256-sized balance (up to
78 digits) times a price would be silently rounded there. `EXACT` is wide enough for any
balance times any accepted price (prices carry at most `PRICE_DIGITS` significant digits)
summed over any request, and traps rounding, so an inexact result is a loud bug, never a
quietly wrong total.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded

PRICE_DIGITS = 40
"""Significant digits a USD price may carry (sources beyond that are refused as garbage)."""

EXACT = Context(prec=400, traps=[Inexact, Rounded, Overflow, InvalidOperation])


def scale_amount(raw: int, decimals: int) -> Decimal:
    """`raw / 10**decimals` exactly, whatever the size of `raw` (no context rounding)."""
    return Decimal(f"{raw}E-{decimals}")  # parsing a string is exact: no context rounding


def exact_product(amount: Decimal, price: Decimal) -> Decimal:
    return EXACT.multiply(amount, price)


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def format_decimal(value: Decimal) -> str:
    """Plain positional notation without exponent or trailing fractional zeros: `1234.5`."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text
