"""PriceLoader: a request's prices in one source call; a failed price is data, never raised."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from core.errors import PriceUnavailable
from core.models import NATIVE_TOKEN
from loaders.prices import PriceLoader
from prices.base import PriceKey, Quote
from tests.fakes.prices import Counting
from tests.fakes.service import DAI, USDC, price_reader

ETH = PriceKey("eth", NATIVE_TOKEN)
USDC_KEY = PriceKey("eth", USDC)
DAI_KEY = PriceKey("eth", DAI)


async def test_prices_asked_in_one_tick_are_one_source_call() -> None:
    source = Counting({ETH: "3000", USDC_KEY: "1"})
    prices = PriceLoader(price_reader(source))
    eth, usdc, dai = (
        p.outcome
        for p in await asyncio.gather(prices.load(ETH), prices.load(USDC_KEY), prices.load(DAI_KEY))
    )
    assert isinstance(eth, Quote) and eth.usd == Decimal(3000)
    assert isinstance(usdc, Quote) and usdc.usd == Decimal(1)
    assert dai is None  # no source prices it
    assert source.asked == [[ETH, USDC_KEY, DAI_KEY]]


async def test_a_failed_source_is_a_price_unavailable_value_not_an_exception() -> None:
    prices = PriceLoader(price_reader(Counting({}, fail=True)))
    one = (await prices.load(ETH)).outcome
    many = [p.outcome for p in await prices.load_many([USDC_KEY, DAI_KEY])]
    assert isinstance(one, PriceUnavailable) and one.retryable
    assert all(isinstance(p, PriceUnavailable) for p in many) and len(many) == 2


async def test_without_sources_nothing_is_priced_or_asked() -> None:
    prices = PriceLoader(price_reader())
    assert not prices.enabled
    assert [p.outcome for p in await prices.load_many([ETH, USDC_KEY])] == [None, None]
    assert PriceLoader(price_reader(Counting({}))).enabled
