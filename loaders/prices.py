"""Per-request price loader: every token priced in a request, one price-source call (one per
past instant for prices at an instant: a day ago, a past block's time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from aiodataloader import DataLoader

from prices.base import Priced, PriceKey
from prices.reader import PriceReader


class PriceLoader:
    """Loads a token's USD quote with when it was fetched: the outcome is `None` when no
    source prices it, a `PriceUnavailable` value (PRICE_UNAVAILABLE) when a source failed.
    Never raises for those (a `Priced` is data to aiodataloader, even holding an error)."""

    def __init__(
        self,
        reader: PriceReader,
        deadline: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._deadline = deadline
        self._loader: DataLoader[PriceKey, Priced] = DataLoader(self._batch)
        self._past: DataLoader[tuple[PriceKey, int], Priced] = DataLoader(self._batch_past)
        self.day_ago = day_ago(clock())
        """The instant this request calls "24 hours ago" (unix seconds, on a 5-minute grid)."""

    @property
    def enabled(self) -> bool:
        return self._reader.enabled

    async def load(self, key: PriceKey) -> Priced:
        return await self._loader.load(key)

    async def load_many(self, keys: list[PriceKey]) -> list[Priced]:
        return await self._loader.load_many(keys)

    async def load_at(self, keys: list[PriceKey], at: datetime) -> list[Priced]:
        """Prices at a past instant (one source call for all of `keys`)."""
        return await self._reader.priced_at(keys, at, self._deadline)

    async def load_past(self, key: PriceKey, instant: int) -> Priced:
        """One price at a past instant; a request's loads meet in one call per instant."""
        return await self._past.load((key, instant))

    async def _batch(self, keys: list[PriceKey]) -> list[Priced]:
        return await self._reader.priced(keys, self._deadline)

    async def _batch_past(self, keys: list[tuple[PriceKey, int]]) -> list[Priced]:
        by_instant: dict[int, list[PriceKey]] = {}
        for key, instant in keys:
            by_instant.setdefault(instant, []).append(key)
        found: dict[tuple[PriceKey, int], Priced] = {}
        for instant, wanted in by_instant.items():
            moment = datetime.fromtimestamp(instant, UTC)
            priced = await self._reader.priced_at(wanted, moment, self._deadline)
            found.update(((k, instant), p) for k, p in zip(wanted, priced, strict=True))
        return [found[k] for k in keys]


DAY = 86_400
GRID = 300
"""A day ago is taken on a 5-minute grid: one instant for every request of those five
minutes, so its prices are fetched once and kept (a past price never changes)."""


def day_ago(now: float) -> int:
    """The instant 24 hours before `now`, on the grid (unix seconds)."""
    return int(now - DAY) // GRID * GRID
