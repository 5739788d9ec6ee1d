"""DefiLlama's coins API (coins.llama.fi) as its documentation describes it.

`GET /prices/current/{coins}` with `coins` a comma-separated list of ids (`coingecko:<id>` for
native assets, `<chain>:<address>` for tokens) answers `{"coins": {id: {"price": 0.9998,
"symbol": "USDC", "timestamp": 1763800000, "confidence": 0.99}}}`, leaving out the ids it has no
price for. Entries are raw JSON text so a test can serve exact decimals and malformed values.
"""

from __future__ import annotations

import json

import httpx

from prices.base import PriceKey


def coin_id(key: PriceKey) -> str | None:
    """Ids as the service builds them for chain `ethereum`; ERC-1155 ids have no coin id."""
    if key.token.is_native:
        return "coingecko:ethereum"
    return None if key.token.token_id is not None else f"{key.chain}:{key.token.contract}"


class Llama:
    """coins.llama.fi: `/prices/current/{ids}` -> `{"coins": {id: {...}}}` (raw JSON text).

    `status` (or a fixed `body`) answers every request with that instead, as an outage would.
    """

    def __init__(self, entries: dict[str, str], status: int = 200, body: bytes | None = None):
        self.entries, self.status, self.body = entries, status, body
        self.paths: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if self.status != 200 or self.body is not None:
            return httpx.Response(self.status, content=self.body or b"{}")
        asked = request.url.path.removeprefix("/prices/current/").split(",")
        found = [f'"{c}": {self.entries[c.lower()]}' for c in asked if c.lower() in self.entries]
        return httpx.Response(200, content=('{"coins": {' + ", ".join(found) + "}}").encode())


def entry(price: str, stamp: int = 1_763_800_000, symbol: str = "X") -> str:
    """One coin's JSON object with `price` spliced in verbatim (e.g. `"0.99983"`, `"null"`)."""
    return json.dumps({"symbol": symbol, "timestamp": stamp, "confidence": 0.99}).replace(
        "{", '{"price": ' + price + ", ", 1
    )
