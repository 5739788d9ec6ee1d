"""USD values and totals are exact for uint256-sized balances (no 28-digit context rounding)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from chains.amounts import exact_sum
from chains.models import BalanceKey, BalanceReading, TokenMeta, TokenRef, TokenStandard
from prices.base import Quote
from resolvers.balances import BalanceRow
from resolvers.values import Valued

AT = datetime(2026, 11, 23, tzinfo=UTC)
TOKEN = TokenRef("0x" + "1" * 40)


def valued(raw: int, decimals: int, price: str) -> Valued:
    key = BalanceKey("ethereum", "0x" + "2" * 40, TOKEN)
    meta = TokenMeta("ethereum", TOKEN, TokenStandard.ERC20, "BIG", "Big", decimals)
    row = BalanceRow(BalanceReading(key, raw, 1, AT), meta)
    return Valued(row, Quote(Decimal(price), AT, "static"))


def exactly(raw: int, decimals: int, price: str) -> Fraction:
    return Fraction(raw, 10**decimals) * Fraction(Decimal(price))


@pytest.mark.parametrize("raw", [2**255, 2**256 - 1, 2**255 + 12345])
@pytest.mark.parametrize("price", ["3000.25", "0.000000000000000001", "123456789.123456789"])
def test_a_uint256_balance_times_a_price_is_exact(raw: int, price: str) -> None:
    value = valued(raw, 18, price).value_usd
    assert value is not None
    assert Fraction(value) == exactly(raw, 18, price)


def test_a_chain_total_of_huge_values_keeps_every_digit() -> None:
    parts = [valued(2**255, 18, "3000.25").value_usd, valued(2**255 - 1, 6, "0.9998").value_usd]
    total = exact_sum(p for p in parts if p is not None)
    assert Fraction(total) == exactly(2**255, 18, "3000.25") + exactly(2**255 - 1, 6, "0.9998")
    assert len(total.as_tuple().digits) > 28  # the default context would have rounded here
