"""A `PriceSource` (prices/base.py's protocol) with fixed quotes that records every call.

`fail=True` makes it raise `PriceUnavailable` on every call, as a source that is down does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from core.errors import PriceUnavailable
from prices.base import PriceKey, Quote

QUOTED_AT = datetime(2026, 11, 22, tzinfo=UTC)


class Counting:
    """Quotes `prices` (USD as decimal strings) at `QUOTED_AT`; `asked` lists each call's keys."""

    name = "counting"

    def __init__(self, prices: Mapping[PriceKey, str], fail: bool = False) -> None:
        self.prices, self.fail = dict(prices), fail
        self.asked: list[list[PriceKey]] = []

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        self.asked.append(list(keys))
        if self.fail:
            raise PriceUnavailable("counting source is down")
        return {
            k: Quote(Decimal(self.prices[k]), QUOTED_AT, self.name)
            for k in keys
            if k in self.prices
        }

    async def quotes_at(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, Quote]:
        """The same prices, quoted at `at` (a constant, like the static source)."""
        found = await self.quotes(keys)
        return {k: Quote(q.usd, at, self.name) for k, q in found.items()}
