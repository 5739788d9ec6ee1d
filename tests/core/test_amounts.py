"""Exact decimal amounts from raw integers, printed without exponent notation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.amounts import format_decimal, scale_amount


def test_scale_amount_is_exact_for_the_largest_uint256() -> None:
    raw = 2**256 - 1
    digits = str(raw)
    expected = f"{digits[:-18]}.{digits[-18:]}"
    amount = scale_amount(raw, 18)
    assert amount == Decimal(expected)
    assert format_decimal(amount) == expected


@given(st.integers(-(2**256), 2**256), st.integers(0, 255))
def test_scale_amount_is_raw_shifted_by_decimals_digit_for_digit(raw: int, decimals: int) -> None:
    amount = scale_amount(raw, decimals)
    assert amount.as_tuple().sign == (raw < 0)
    assert amount.as_tuple().digits == tuple(int(d) for d in str(abs(raw)))
    assert amount.as_tuple().exponent == -decimals


def test_scale_amount_of_zero_formats_as_zero() -> None:
    assert scale_amount(0, 18) == 0
    assert format_decimal(scale_amount(0, 18)) == "0"
    assert format_decimal(scale_amount(0, 0)) == "0"


def test_scale_amount_drops_trailing_fractional_zeros() -> None:
    assert format_decimal(scale_amount(1_234_500_000, 6)) == "1234.5"
    assert format_decimal(scale_amount(1_000_000, 6)) == "1"
    assert format_decimal(scale_amount(1000, 0)) == "1000"
    assert format_decimal(scale_amount(1000, 1)) == "100"


def test_scale_amount_of_the_smallest_unit() -> None:
    assert format_decimal(scale_amount(1, 18)) == "0." + "0" * 17 + "1"
    assert scale_amount(1, 18) == Decimal(1) / Decimal(10**18)


def test_scale_amount_keeps_the_sign() -> None:
    assert format_decimal(scale_amount(-15, 1)) == "-1.5"


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E+30"),
        Decimal("1E-30"),
        Decimal("1.5E+40"),
        Decimal("0E-18"),
        Decimal("-0E+5"),
        scale_amount(1, 255),
        scale_amount(10**77, 0),
        scale_amount(12 * 10**60, 2),
    ],
)
def test_format_decimal_never_uses_exponent_notation(value: Decimal) -> None:
    text = format_decimal(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value
    if "." in text:
        assert not text.endswith("0")


def test_format_decimal_spells_out_large_and_small_values() -> None:
    assert format_decimal(Decimal("1E+30")) == "1" + "0" * 30
    assert format_decimal(Decimal("1E-30")) == "0." + "0" * 29 + "1"
    assert format_decimal(Decimal("12.3400")) == "12.34"
    assert format_decimal(Decimal("-0.000")) == "0"
