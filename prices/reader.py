"""Cached, batched price lookups: a page of balances costs one price request a minute.

Answers are cached for `ttl` seconds (default 60), including "no source prices this", with
the time they were fetched; a failed source is not cached, so the next request asks again.
A price at a past instant (`priced_at`) cannot change, so it is kept for `history_ttl`
(default a week), unless the instant is within the last `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from chains.cache.base import Cache
from core.errors import PriceUnavailable
from prices.base import Priced, PriceKey, PriceOutcome, Quote
from prices.fallback import FallbackSources


class PriceReader:
    """Cached, batched price lookups for a request's loader."""

    def __init__(
        self,
        sources: FallbackSources,
        cache: Cache,
        ttl: int,
        clock: Callable[[], float] = time.time,
        history_ttl: int = 7 * 86_400,
    ) -> None:
        self._sources = sources
        self._cache = cache
        self._ttl = ttl
        self._history_ttl = history_ttl
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return bool(self._sources.sources)

    async def prices(
        self, keys: Sequence[PriceKey], deadline: float | None = None
    ) -> list[PriceOutcome]:
        """Each key's quote, error or `None`; a cached answer is at most `ttl` seconds old.

        Sources still asking at `deadline` (event loop clock) leave their keys unavailable.
        """
        return [p.outcome for p in await self.priced(keys, deadline)]

    async def priced(self, keys: Sequence[PriceKey], deadline: float | None = None) -> list[Priced]:
        """`prices`, each with when it was fetched from its source."""
        return await self._priced(keys, deadline, None)

    async def priced_at(
        self, keys: Sequence[PriceKey], at: datetime, deadline: float | None = None
    ) -> list[Priced]:
        """Each key's price at the instant `at` (a past one: never a current price)."""
        return await self._priced(keys, deadline, at)

    async def _priced(
        self, keys: Sequence[PriceKey], deadline: float | None, at: datetime | None
    ) -> list[Priced]:
        now = self._clock()
        if not self.enabled or not keys:
            return [Priced(None, now)] * len(keys)
        instant = None if at is None else int(_utc(at).timestamp())
        ttl = self._ttl if instant is None or instant > now - self._ttl else self._history_ttl
        unique = list(dict.fromkeys(keys))
        stored = await self._cache.get_many([_cache_key(k, instant) for k in unique])
        known: dict[PriceKey, Priced] = {}
        for key, data in zip(unique, stored, strict=True):
            cached = _decode(data, now - ttl)
            if cached is not None:
                known[key] = cached
        missing = [k for k in unique if k not in known]
        if missing:
            answer = await self._quotes(missing, deadline, at)
            fetched = self._clock()
            fresh = {k: Priced(answer.get(k), fetched) for k in missing}
            known.update(fresh)
            # Quotes and "unpriced" are answers worth keeping; a failed source is not.
            await self._cache.set_many(
                {
                    _cache_key(k, instant): _encode(v)
                    for k, v in fresh.items()
                    if not isinstance(v.outcome, PriceUnavailable)
                },
                ttl,
            )
        return [known[k] for k in keys]

    async def _quotes(
        self, keys: list[PriceKey], deadline: float | None, at: datetime | None
    ) -> dict[PriceKey, Quote | PriceUnavailable]:
        try:
            async with asyncio.timeout_at(deadline):
                if at is not None:
                    return await self._sources.quotes_at(keys, at)
                return await self._sources.quotes(keys)
        except TimeoutError:
            late = PriceUnavailable("the price sources did not answer within the request deadline")
            return dict.fromkeys(keys, late)


def _cache_key(key: PriceKey, instant: int | None) -> str:
    if instant is None:
        return f"bg:v1:px:{key.chain}:{key.token}"
    return f"bg:v1:pxat:{instant}:{key.chain}:{key.token}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode(priced: Priced) -> bytes:
    outcome = priced.outcome
    if not isinstance(outcome, Quote):
        return json.dumps({"usd": None, "f": priced.fetched}).encode()
    body = {
        "usd": str(outcome.usd),
        "at": outcome.quoted_at.timestamp(),
        "src": outcome.source,
        "f": priced.fetched,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _decode(data: bytes | None, oldest: float) -> Priced | None:
    """The cached answer (a quote, or `None` for "unpriced"), or `None` for a miss. An entry
    without a plausible fetch time counts as fetched `oldest` (as old as the TTL allows)."""
    if data is None:
        return None
    try:
        body = json.loads(data)
        fetched = body.get("f")
        fetched = (
            float(fetched) if isinstance(fetched, int | float) and fetched > oldest else oldest
        )
        if body.get("usd") is None:
            return Priced(None, fetched)
        usd = Decimal(str(body["usd"]))
        at = datetime.fromtimestamp(float(body["at"]), UTC)
        source = body["src"]
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation, OverflowError):
        return None
    if not usd.is_finite() or usd < 0 or not isinstance(source, str):
        return None
    return Priced(Quote(usd, at, source), fetched)
