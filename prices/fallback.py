"""Several price sources tried in order, each asked only for what is still unpriced."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.errors import PriceUnavailable
from prices.base import PriceKey, PriceSource, Quote


class FallbackSources:
    """Tries sources in order; a key is unpriced only if every source answered without it."""

    def __init__(self, sources: Sequence[PriceSource]) -> None:
        self.sources = tuple(sources)

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote | PriceUnavailable]:
        return await self._ask(keys, None)

    async def quotes_at(
        self, keys: Sequence[PriceKey], at: datetime
    ) -> dict[PriceKey, Quote | PriceUnavailable]:
        """As `quotes`, at a past instant."""
        return await self._ask(keys, at)

    async def _ask(
        self, keys: Sequence[PriceKey], at: datetime | None
    ) -> dict[PriceKey, Quote | PriceUnavailable]:
        found: dict[PriceKey, Quote | PriceUnavailable] = {}
        failures: list[PriceUnavailable] = []
        remaining = list(dict.fromkeys(keys))
        for source in self.sources:
            if not remaining:
                break
            try:
                answer = await (
                    source.quotes(remaining) if at is None else source.quotes_at(remaining, at)
                )
            except PriceUnavailable as exc:
                failures.append(exc)
                continue
            found.update(answer)
            remaining = [k for k in remaining if k not in answer]
        if failures:
            # One outage is one error, shared by every token it left unpriced.
            outage = PriceUnavailable("; ".join(f.message for f in failures))
            for key in remaining:
                found[key] = outage
        return found
