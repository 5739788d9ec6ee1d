"""Per-request price loader: every token priced in a request, one price-source call."""

from __future__ import annotations

from datetime import datetime

from aiodataloader import DataLoader

from prices.base import Priced, PriceKey
from prices.reader import PriceReader


class PriceLoader:
    """Loads a token's USD quote with when it was fetched: the outcome is `None` when no
    source prices it, a `PriceUnavailable` value (PRICE_UNAVAILABLE) when a source failed.
    Never raises for those (a `Priced` is data to aiodataloader, even holding an error)."""

    def __init__(self, reader: PriceReader, deadline: float | None = None) -> None:
        self._reader = reader
        self._deadline = deadline
        self._loader: DataLoader[PriceKey, Priced] = DataLoader(self._batch)

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

    async def _batch(self, keys: list[PriceKey]) -> list[Priced]:
        return await self._reader.priced(keys, self._deadline)
