"""Prices fixed in config: pegged assets, devnets and tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from chains.clock import Clock
from prices.base import PriceKey, Quote


class StaticPrices:
    """Prices fixed in config: `"<chain>:<token address or native>" = "3000.25"`."""

    name = "static"

    def __init__(self, prices: Mapping[PriceKey, Decimal], clock: Clock) -> None:
        self._prices = dict(prices)
        self._clock = clock

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        now = self._clock()
        return {k: Quote(self._prices[k], now, self.name) for k in keys if k in self._prices}
