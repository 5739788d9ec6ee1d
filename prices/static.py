"""Prices fixed in config: pegged assets, devnets and tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from core.clock import Clock
from prices.base import PriceKey, Quote


class StaticPrices:
    """Prices fixed in config: `"<chain>:<token address or native>" = "3000.25"`.

    One price for all time: a past instant is quoted the same constant (quoted at that
    instant), so history valued with it shows movements of amounts, never of prices."""

    name = "static"

    def __init__(self, prices: Mapping[PriceKey, Decimal], clock: Clock) -> None:
        self._prices = dict(prices)
        self._clock = clock

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        now = self._clock()
        return {k: Quote(self._prices[k], now, self.name) for k in keys if k in self._prices}

    async def quotes_at(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, Quote]:
        return {k: Quote(self._prices[k], at, self.name) for k in keys if k in self._prices}
