"""DefiLlama's coins API as a `PriceSource`: every coin of one call in one HTTP request.

`GET {base}/prices/current/{id},{id},...` answers
`{"coins": {"ethereum:0x…": {"price": 0.9998, "symbol": "USDC", "decimals": 6,
"timestamp": 1763800000, "confidence": 0.99}}}`. Prices are parsed from the JSON text as
`Decimal` (never through float), and every field is validated.

A past instant is `GET {base}/prices/historical/{unix seconds}/{ids}?searchWidth=6h`, with
the same answer shape: the quote nearest the instant within the search width. A quote whose
`timestamp` is farther than that from the instant is treated as no price at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from core.amounts import PRICE_DIGITS
from core.errors import PriceUnavailable, UpstreamError
from core.http import parse_json, raise_for_status, read_capped, upstream_errors
from core.metrics import Metrics
from prices.base import PriceKey, Quote

_COINS_PER_REQUEST = 100
_MAX_RESPONSE_BYTES = (
    4 * 1024 * 1024
)  # 100 coins are ~20 KB  # keeps the URL well under common 8 KB limits
_MAX_PRICE = Decimal(10) ** 15  # USD per token; anything above is garbage, not a price
SEARCH_WIDTH = timedelta(hours=6)


class DefiLlamaPrices:
    name = "defillama"

    def __init__(
        self,
        http: httpx.AsyncClient,
        metrics: Metrics,
        coin_id: Callable[[PriceKey], str | None],
        *,
        base_url: str,
        timeout: float,
    ) -> None:
        self._http = http
        self._metrics = metrics
        self._coin_id = coin_id
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]:
        return await self._quotes(keys, "current", "")

    async def quotes_at(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, Quote]:
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        width = int(SEARCH_WIDTH.total_seconds()) // 3600
        found = await self._quotes(
            keys, f"historical/{int(moment.timestamp())}", f"?searchWidth={width}h"
        )
        return {k: q for k, q in found.items() if abs(q.quoted_at - moment) <= SEARCH_WIDTH}

    async def _quotes(
        self, keys: Sequence[PriceKey], kind: str, query: str
    ) -> dict[PriceKey, Quote]:
        ids: dict[str, list[PriceKey]] = {}
        for key in keys:
            coin = self._coin_id(key)
            if coin is not None:
                ids.setdefault(coin.lower(), []).append(key)
        coins = list(ids)
        chunks = [
            coins[i : i + _COINS_PER_REQUEST] for i in range(0, len(coins), _COINS_PER_REQUEST)
        ]
        answers = await asyncio.gather(*(self._fetch(chunk, kind, query) for chunk in chunks))
        quotes: dict[PriceKey, Quote] = {}
        for answer in answers:
            for coin, quote_ in answer.items():
                for key in ids.get(coin, []):
                    quotes[key] = quote_
        return quotes

    async def _fetch(self, coins: list[str], kind: str, query: str) -> dict[str, Quote]:
        path = ",".join(quote(c, safe=":") for c in coins)
        method = "GET /prices/" + kind.partition("/")[0]
        self._metrics.upstream_requests.inc(chain=self.name, method=method)
        try:
            with upstream_errors(self.name):
                async with asyncio.timeout(self._timeout):
                    answer = await read_capped(
                        self._http,
                        "GET",
                        f"{self._base}/prices/{kind}/{path}{query}",
                        upstream=self.name,
                        limit=_MAX_RESPONSE_BYTES,
                        io_timeout=self._timeout,
                    )
            raise_for_status(self.name, answer)
            body = parse_json(self.name, answer.body, parse_float=Decimal)
        except UpstreamError as exc:
            self._metrics.upstream_errors.inc(chain=self.name, code=exc.code)
            raise PriceUnavailable(f"DefiLlama failed: {exc.message}") from exc
        entries = body.get("coins") if isinstance(body, dict) else None
        if not isinstance(entries, dict):
            raise PriceUnavailable("DefiLlama sent an answer without a 'coins' object")
        return {
            coin.lower(): parsed
            for coin, entry in entries.items()
            if isinstance(coin, str) and (parsed := _quote(entry, self.name)) is not None
        }


def _quote(entry: Any, source: str) -> Quote | None:
    """One coin's quote, or `None` when any field is not what the API promises."""
    if not isinstance(entry, dict):
        return None
    price, stamp = entry.get("price"), entry.get("timestamp")
    if isinstance(price, bool) or not isinstance(price, Decimal | int):
        return None
    usd = Decimal(price)
    if (
        not usd.is_finite()
        or not 0 <= usd < _MAX_PRICE
        or len(usd.as_tuple().digits) > PRICE_DIGITS
    ):
        return None
    if isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 < stamp < 253_402_300_800:
        return None
    return Quote(usd, datetime.fromtimestamp(stamp, UTC), source)
