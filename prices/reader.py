"""Cached, batched price lookups: a page of balances costs one price request a minute.

Answers are cached for `ttl` seconds (default 60), including "no source prices this"; a
failed source is not cached, so the next request asks again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from chains.cache.base import Cache
from chains.errors import PriceUnavailable
from prices.base import PriceKey, PriceOutcome, Quote
from prices.fallback import FallbackSources


class PriceReader:
    """Cached, batched price lookups for a request's loader."""

    def __init__(
        self,
        sources: FallbackSources,
        cache: Cache,
        ttl: int,
    ) -> None:
        self._sources = sources
        self._cache = cache
        self._ttl = ttl

    @property
    def enabled(self) -> bool:
        return bool(self._sources.sources)

    async def prices(
        self, keys: Sequence[PriceKey], deadline: float | None = None
    ) -> list[PriceOutcome]:
        """Each key's quote, error or `None`; a cached answer is at most `ttl` seconds old.

        Sources still asking at `deadline` (event loop clock) leave their keys unavailable.
        """
        if not self.enabled or not keys:
            return [None] * len(keys)
        unique = list(dict.fromkeys(keys))
        stored = await self._cache.get_many([_cache_key(k) for k in unique])
        known: dict[PriceKey, PriceOutcome] = {}
        for key, data in zip(unique, stored, strict=True):
            hit, cached = _decode(data)
            if hit:
                known[key] = cached
        missing = [k for k in unique if k not in known]
        if missing:
            answer = await self._quotes(missing, deadline)
            fresh = {k: answer.get(k) for k in missing}
            known.update(fresh)
            # Quotes and "unpriced" are answers worth keeping; a failed source is not.
            await self._cache.set_many(
                {
                    _cache_key(k): _encode(v)
                    for k, v in fresh.items()
                    if not isinstance(v, PriceUnavailable)
                },
                self._ttl,
            )
        return [known[k] for k in keys]

    async def _quotes(
        self, keys: list[PriceKey], deadline: float | None
    ) -> dict[PriceKey, Quote | PriceUnavailable]:
        try:
            async with asyncio.timeout_at(deadline):
                return await self._sources.quotes(keys)
        except TimeoutError:
            late = PriceUnavailable("the price sources did not answer within the request deadline")
            return dict.fromkeys(keys, late)


def _cache_key(key: PriceKey) -> str:
    return f"bg:v1:px:{key.chain}:{key.token}"


def _encode(outcome: PriceOutcome) -> bytes:
    if not isinstance(outcome, Quote):
        return b'{"usd":null}'
    body = {"usd": str(outcome.usd), "at": outcome.quoted_at.timestamp(), "src": outcome.source}
    return json.dumps(body, separators=(",", ":")).encode()


def _decode(data: bytes | None) -> tuple[bool, Quote | None]:
    """(True, quote) or (True, None) for a cached "unpriced"; (False, None) for a miss."""
    if data is None:
        return False, None
    try:
        body = json.loads(data)
        if body.get("usd") is None:
            return True, None
        usd = Decimal(str(body["usd"]))
        at = datetime.fromtimestamp(float(body["at"]), UTC)
        source = body["src"]
    except (ValueError, TypeError, KeyError, AttributeError, InvalidOperation, OverflowError):
        return False, None
    if not usd.is_finite() or usd < 0 or not isinstance(source, str):
        return False, None
    return True, Quote(usd, at, source)
