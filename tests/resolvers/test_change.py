"""24-hour change from prices alone: exact in USD, a percent rounded to 4 places, null (never 0)
when a price of either instant is unknown, and one source call per instant for a request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from core.models import NATIVE_TOKEN
from loaders.prices import day_ago
from prices.base import PriceKey, Quote
from resolvers.account import Selection
from resolvers.change import percent_of, row_move, token_move, total_change, value_change
from resolvers.portfolio import portfolio
from resolvers.scope import RequestScope
from tests.fakes.service import ALICE, DAI, USDC, FakeProvider, erc20, make_chain, make_scope

ETH, USDC_KEY, DAI_KEY = (PriceKey("eth", t) for t in (NATIVE_TOKEN, USDC, DAI))


class Moving:
    """A price source whose prices a day ago differ from today's; `asked_at` records the
    instants asked."""

    name = "moving"

    def __init__(self, now: Mapping[PriceKey, str], before: Mapping[PriceKey, str]) -> None:
        self.now, self.before = dict(now), dict(before)
        self.asked_at: list[int] = []

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        moment = datetime.now(UTC)
        return {k: Quote(Decimal(self.now[k]), moment, self.name) for k in keys if k in self.now}

    async def quotes_at(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, Quote]:
        self.asked_at.append(int(at.timestamp()))
        old = at.timestamp() < time.time() - 3_600
        table = self.before if old else self.now
        return {k: Quote(Decimal(table[k]), at, self.name) for k in keys if k in table}


def scope_with(source: Moving) -> RequestScope:
    provider = FakeProvider(
        "eth",
        balances={
            (ALICE, NATIVE_TOKEN): 2 * 10**18,
            (ALICE, USDC): 1_000_000_000,
            (ALICE, DAI): 10**18,
        },
    )
    chain = make_chain(provider, listed=[erc20("eth", USDC, "USDC", 6), erc20("eth", DAI, "DAI")])
    return make_scope(chain, prices=[source])


async def test_a_token_s_change_is_exact_and_its_percent_rounded() -> None:
    source = Moving({ETH: "3300", USDC_KEY: "1.0000"}, {ETH: "3000", USDC_KEY: "0.9990"})
    scope = scope_with(source)
    eth, usdc = await asyncio.gather(  # as a list's fields resolve: together
        token_move(scope, "eth", NATIVE_TOKEN), token_move(scope, "eth", USDC)
    )
    assert (eth.delta, eth.percent) == (Decimal("300"), Decimal("10.0000"))
    assert usdc.percent == Decimal("0.1001")  # 0.0010 / 0.9990 = 0.100100… %
    assert source.asked_at == [day_ago(time.time())]  # both tokens: one call, one instant


async def test_an_unknown_price_makes_the_change_null_never_zero() -> None:
    source = Moving({ETH: "3300", DAI_KEY: "1"}, {ETH: "3000"})  # DAI has no past price
    dai = await token_move(scope_with(source), "eth", DAI)
    assert (dai.delta, dai.percent) == (None, None)


async def test_a_portfolio_s_change_sums_its_rows_and_says_nothing_when_one_is_unknown() -> None:
    both = Moving({ETH: "3300", USDC_KEY: "1"}, {ETH: "3000", USDC_KEY: "1"})
    scope = scope_with(both)
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert result.total_usd == Decimal(2 * 3300 + 1000)
    changes = [value_change(v.row, await row_move(scope, v.row)) for v in result.priced]
    assert sorted(c for c in changes if c is not None) == [Decimal(0), Decimal(600)]
    total = await total_change(scope, result.priced)
    assert total.usd == Decimal(600)
    assert total.percent == percent_of(Decimal(600), Decimal(7600 - 600))
    missing = Moving({ETH: "3300", USDC_KEY: "1"}, {ETH: "3000"})
    scope = scope_with(missing)
    result, _ = await portfolio(scope, ALICE, Selection(), None, None)
    assert (await total_change(scope, result.priced)).usd is None


def test_a_percent_of_prices_far_apart_is_a_number_not_an_error() -> None:
    """A price source may answer a dust price (DefiLlama sends 1E-57): the percent used to
    raise decimal.InvalidOperation, an internal error in place of a field."""
    change = percent_of(Decimal("0.5"), Decimal("1E-57"))  # 0.5 up from ~0: 5E+58 percent
    assert change == Decimal(5 * 10**58) and change.as_tuple().exponent == -4
    assert percent_of(Decimal(-1), Decimal("1E+80")) == Decimal("0.0000")
