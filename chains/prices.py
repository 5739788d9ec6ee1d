"""USD prices: sources behind one protocol, tried in order, cached with their quote time.

    PriceSource          quotes(keys) -> {key: Quote}; a key left out is unpriced by it
    ├── StaticPrices     fixed prices from config (devnet demo, tests, pegged assets)
    ├── DefiLlamaPrices  chains.defillama: every coin of one call in one batched request
    └── PriceChain       sources in order; asks each only for what is still unpriced

`PriceReader` caches answers (default 60 s, including "no source prices this"), so a page
of balances costs one price request a minute. A source that fails makes its keys
`PriceUnavailable` (an error, never a zero), unless a later source prices them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

from chains.cache import Cache
from chains.clock import Clock
from chains.errors import ChainError, PriceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class PriceKey:
    """A token to price: chain id and canonical token address (or `native`)."""

    chain: str
    token: str


@dataclass(frozen=True)
class Quote:
    usd: Decimal
    quoted_at: datetime
    source: str


PriceOutcome = Quote | ChainError | None
"""A quote, the error that prevented one, or `None` for "no source prices this token"."""


class PriceSource(Protocol):
    """Prices many tokens in one call.

    Returns the quotes it has; a key absent from the answer is unpriced by this source.
    Raises `PriceUnavailable` when the source itself failed (down, rate limited, garbage).
    """

    name: str

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]: ...


class StaticPrices:
    """Prices fixed in config: `"<chain>:<token address or native>" = "3000.25"`."""

    name = "static"

    def __init__(self, prices: Mapping[PriceKey, Decimal], clock: Clock) -> None:
        self._prices = dict(prices)
        self._clock = clock

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        now = self._clock()
        return {k: Quote(self._prices[k], now, self.name) for k in keys if k in self._prices}


class PriceChain:
    """Tries sources in order; a key is unpriced only if every source answered without it."""

    def __init__(self, sources: Sequence[PriceSource]) -> None:
        self.sources = tuple(sources)

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote | ChainError]:
        found: dict[PriceKey, Quote | ChainError] = {}
        failures: list[PriceUnavailable] = []
        remaining = list(dict.fromkeys(keys))
        for source in self.sources:
            if not remaining:
                break
            try:
                answer = await source.quotes(remaining)
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


class PriceReader:
    """Cached, batched price lookups for a request's loader."""

    def __init__(
        self,
        chain: PriceChain,
        cache: Cache,
        ttl: int,
    ) -> None:
        self._chain = chain
        self._cache = cache
        self._ttl = ttl

    @property
    def enabled(self) -> bool:
        return bool(self._chain.sources)

    async def prices(self, keys: Sequence[PriceKey]) -> list[PriceOutcome]:
        """Each key's quote, error or `None`; a cached answer is at most `ttl` seconds old."""
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
            answer = await self._chain.quotes(missing)
            fresh = {k: answer.get(k) for k in missing}
            known.update(fresh)
            # Quotes and "unpriced" are answers worth keeping; a failed source is not.
            await self._cache.set_many(
                {
                    _cache_key(k): _encode(v)
                    for k, v in fresh.items()
                    if not isinstance(v, ChainError)
                },
                self._ttl,
            )
        return [known[k] for k in keys]


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
