"""StaticPrices: the configured prices, quoted at the time they are asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.models import NATIVE_TOKEN, TokenRef
from prices.base import PriceKey, Quote
from prices.static import StaticPrices

ETH = PriceKey("eth", NATIVE_TOKEN)
USDC = PriceKey("eth", TokenRef("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
OTHER = PriceKey("base", NATIVE_TOKEN)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_configured_keys_are_quoted_exactly_and_others_left_out() -> None:
    clock = Clock()
    source = StaticPrices({ETH: Decimal("3000.25"), USDC: Decimal("0.9998")}, clock)
    assert await source.quotes([USDC, OTHER, ETH]) == {
        USDC: Quote(Decimal("0.9998"), clock.now, "static"),
        ETH: Quote(Decimal("3000.25"), clock.now, "static"),
    }
    assert await source.quotes([]) == {}


async def test_a_quote_is_as_of_the_moment_it_was_asked_for() -> None:
    clock = Clock()
    source = StaticPrices({ETH: Decimal(1)}, clock)
    first = (await source.quotes([ETH]))[ETH]
    clock.now += timedelta(minutes=5)
    later = (await source.quotes([ETH]))[ETH]
    assert later.quoted_at - first.quoted_at == timedelta(minutes=5)


async def test_the_source_keeps_its_own_copy_of_the_prices() -> None:
    prices = {ETH: Decimal(3000)}
    source = StaticPrices(prices, Clock())
    prices[ETH] = Decimal(1)
    prices[OTHER] = Decimal(2)
    assert (await source.quotes([ETH, OTHER]))[ETH].usd == Decimal(3000)
    assert OTHER not in await source.quotes([OTHER])
