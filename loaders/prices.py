"""Per-request price loader: every token priced in a request, one price-source call."""

from __future__ import annotations

from aiodataloader import DataLoader

from prices.base import PriceKey, PriceOutcome
from prices.reader import PriceReader


class PriceLoader:
    """Loads a token's USD quote; `None` when no source prices it, a `PriceUnavailable` value
    (PRICE_UNAVAILABLE) when a source failed. Never raises for those."""

    def __init__(self, reader: PriceReader, deadline: float | None = None) -> None:
        self._reader = reader
        self._deadline = deadline
        self._loader: DataLoader[PriceKey, _Boxed] = DataLoader(self._batch)

    @property
    def enabled(self) -> bool:
        return self._reader.enabled

    async def load(self, key: PriceKey) -> PriceOutcome:
        return (await self._loader.load(key)).outcome

    async def load_many(self, keys: list[PriceKey]) -> list[PriceOutcome]:
        return [boxed.outcome for boxed in await self._loader.load_many(keys)]

    async def _batch(self, keys: list[PriceKey]) -> list[_Boxed]:
        return [_Boxed(o) for o in await self._reader.prices(keys, self._deadline)]


class _Boxed:
    """Wraps outcomes so aiodataloader does not raise error values: a failed price is data."""

    __slots__ = ("outcome",)

    def __init__(self, outcome: PriceOutcome) -> None:
        self.outcome = outcome
