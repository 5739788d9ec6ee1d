"""USD values and the dust filter, with the semantics resolvers/values.py documents.

`minValueUsd` omitted hides non-native tokens that are unpriced or worth zero; `0` keeps
everything; `N > 0` drops tokens worth less than N; the native asset is always kept; a row
whose price source failed is kept; with no price source nothing is judged; rows of tokens
named in `tokens:` are dust-filtered only when `minValueUsd` is given. Values and totals are
exact for uint256-sized balances (no 28-digit context rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

from core.amounts import exact_sum
from core.errors import PriceUnavailable
from core.models import (
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from prices.base import PriceKey, Quote
from resolvers.account import Selection
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope
from resolvers.values import Valued, dust, price, price_key, valuation
from tests.fakes.prices import Counting
from tests.fakes.service import ALICE, DAI, USDC, FakeProvider, erc20, make_chain, make_scope

AT = datetime(2026, 1, 1, tzinfo=UTC)
CHEAP = TokenRef("0x" + "4" * 40)
PRICES = {
    PriceKey("eth", NATIVE_TOKEN): "3000",
    PriceKey("eth", USDC): "0.9998",
    PriceKey("eth", CHEAP): "0.001",
    PriceKey("eth", DAI): "1",
}


def row(token: TokenRef, raw: int, decimals: int | None = 6) -> BalanceRow:
    meta = (
        TokenMeta("eth", token, TokenStandard.NATIVE, "ETH", "Ether", 18)
        if token.is_native
        else erc20("eth", token, str(token)[:6], decimals)
    )
    return BalanceRow(BalanceReading(BalanceKey("eth", ALICE, token), raw, 1, AT), meta)


def quote(usd: str) -> Quote:
    return Quote(Decimal(usd), AT, "test")


def scope(*sources: Counting) -> RequestScope:
    return make_scope(make_chain(FakeProvider("eth")), prices=sources)


async def kept(
    rows: Sequence[BalanceRow],
    min_value_usd: str | None = None,
    tokens: Sequence[str] | None = None,
    source: Counting | None = None,
    priced: bool = True,
) -> list[str]:
    """The tokens of `rows` the dust filter keeps (priced by PRICES unless `source`)."""
    with_prices = scope(source or Counting(PRICES)) if priced else scope()
    items, _ = await valuation(with_prices, list(rows))
    floor = None if min_value_usd is None else Decimal(min_value_usd)
    chosen = dust(with_prices, items, Selection(tokens=tokens, min_value_usd=floor))
    return [str(v.row.reading.key.token) for v in chosen]


ROWS = [
    row(NATIVE_TOKEN, 0, 18),  # native, worth zero
    row(USDC, 1_234_500_000),  # 1234.5 USDC: 1234.2531 USD
    row(CHEAP, 5_000_000),  # 5 CHEAP: 0.005 USD
    row(DAI, 10**6, decimals=None),  # decimals unknown: no value
    row(TokenRef("0x" + "5" * 40), 42),  # unpriced
]


def test_value_is_amount_times_price_exactly() -> None:
    valued = Valued(row(USDC, 1_234_500_000), quote("0.9998"))
    assert valued.value_usd == Decimal("1234.2531")
    assert valued.error is None


def test_no_value_without_a_quote_or_without_decimals() -> None:
    outage = PriceUnavailable("down")
    assert Valued(row(USDC, 1), None).value_usd is None
    assert Valued(row(USDC, 1), outage).value_usd is None
    assert Valued(row(USDC, 1), outage).error is outage
    assert Valued(row(DAI, 1, decimals=None), quote("1")).value_usd is None


async def test_omitted_min_value_hides_unpriced_and_worthless_tokens_but_not_native() -> None:
    assert await kept(ROWS) == ["native", str(USDC), str(CHEAP)]
    assert await kept([row(USDC, 0)]) == []  # priced but worth zero


async def test_zero_min_value_keeps_everything() -> None:
    assert await kept(ROWS, "0") == [str(r.reading.key.token) for r in ROWS]


async def test_positive_min_value_drops_what_is_worth_less_and_keeps_native() -> None:
    assert await kept(ROWS, "0.005") == ["native", str(USDC), str(CHEAP)]  # equal is kept
    assert await kept(ROWS, "0.0051") == ["native", str(USDC)]
    assert await kept(ROWS, "1000000") == ["native"]


async def test_a_row_whose_price_source_failed_is_kept_not_guessed() -> None:
    down = Counting({}, fail=True)
    assert await kept(ROWS, "1000000", source=down) == [str(r.reading.key.token) for r in ROWS]


async def test_without_a_price_source_nothing_is_judged() -> None:
    everything = [str(r.reading.key.token) for r in ROWS]
    assert await kept(ROWS, priced=False) == everything
    assert await kept(ROWS, "1000000", priced=False) == everything


async def test_named_tokens_are_filtered_only_with_an_explicit_min_value() -> None:
    named = [str(USDC), str(CHEAP)]
    everything = [str(r.reading.key.token) for r in ROWS]
    assert await kept(ROWS, tokens=named) == everything
    assert await kept(ROWS, "1", tokens=named) == ["native", str(USDC)]


async def test_valuation_without_sources_asks_for_no_price() -> None:
    no_prices = scope()
    items, errors = await valuation(no_prices, ROWS[:2])
    assert [v.price for v in items] == [None, None] and errors == []
    assert no_prices.hints.prices is False


async def test_one_price_outage_is_one_error_for_every_row() -> None:
    with_prices = scope(Counting({}, fail=True))
    items, errors = await valuation(with_prices, ROWS)
    assert all(isinstance(v.price, PriceUnavailable) for v in items)
    assert len(errors) == 1 and errors[0].code == "PRICE_UNAVAILABLE"
    assert with_prices.hints.prices is True  # prices shape what a cache may keep


async def test_price_of_one_token_marks_the_response_as_priced() -> None:
    with_prices = scope(Counting(PRICES))
    found = await price(with_prices, "eth", USDC)
    assert isinstance(found, Quote) and found.usd == Decimal("0.9998")
    fetched = with_prices.hints.oldest_price
    assert fetched is not None and with_prices.hints.expires_at(fetched) == fetched + 60


@pytest.mark.parametrize("token", [NATIVE_TOKEN, USDC, TokenRef(str(USDC), 7)])
def test_a_row_is_priced_by_its_chain_and_token(token: TokenRef) -> None:
    assert price_key(row(token, 1, 0)) == PriceKey("eth", token)


# --- exact for uint256-sized balances ------------------------------------------------------

BIG = TokenRef("0x" + "1" * 40)


def valued(raw: int, decimals: int, price: str) -> Valued:
    key = BalanceKey("ethereum", "0x" + "2" * 40, BIG)
    meta = TokenMeta("ethereum", BIG, TokenStandard.ERC20, "BIG", "Big", decimals)
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
