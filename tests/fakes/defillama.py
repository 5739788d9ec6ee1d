"""DefiLlama's coins API (coins.llama.fi) as its documentation describes it.

`GET /prices/current/{coins}` with `coins` a comma-separated list of ids (`coingecko:<id>` for
native assets, `<chain>:<address>` for tokens) answers `{"coins": {id: {"price": 0.9998,
"symbol": "USDC", "timestamp": 1763800000, "confidence": 0.99}}}`, leaving out the ids it has no
price for. Entries are raw JSON text so a test can serve exact decimals and malformed values.

`GET /prices/historical/{unix seconds}/{coins}?searchWidth=6h` answers the same shape with
each coin's quote nearest that instant within the search width (from `history`: instant ->
entries), and leaves out coins with none.
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

    def __init__(
        self,
        entries: dict[str, str],
        status: int = 200,
        body: bytes | None = None,
        history: dict[int, dict[str, str]] | None = None,
    ):
        self.entries, self.status, self.body = entries, status, body
        self.history = history or {}
        self.paths: list[str] = []
        self.queries: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        self.queries.append(request.url.query.decode())
        if self.status != 200 or self.body is not None:
            return httpx.Response(self.status, content=self.body or b"{}")
        path = request.url.path
        entries = self.entries
        if path.startswith("/prices/historical/"):
            instant, _, coins = path.removeprefix("/prices/historical/").partition("/")
            width = int(request.url.params.get("searchWidth", "6h").removesuffix("h")) * 3600
            entries = self._nearest(int(instant), width)
        else:
            coins = path.removeprefix("/prices/current/")
        asked = coins.split(",")
        found = [f'"{c}": {entries[c.lower()]}' for c in asked if c.lower() in entries]
        return httpx.Response(200, content=('{"coins": {' + ", ".join(found) + "}}").encode())

    def _nearest(self, instant: int, width: int) -> dict[str, str]:
        """Each coin's entry at the recorded instant nearest `instant`, within `width`."""
        best: dict[str, tuple[int, str]] = {}
        for at, entries in self.history.items():
            for coin, value in entries.items():
                distance = abs(at - instant)
                if distance <= width and (coin not in best or distance < best[coin][0]):
                    best[coin] = (distance, value)
        return {coin: value for coin, (_, value) in best.items()}


def entry(price: str, stamp: int = 1_763_800_000, symbol: str = "X") -> str:
    """One coin's JSON object with `price` spliced in verbatim (e.g. `"0.99983"`, `"null"`)."""
    return json.dumps({"symbol": symbol, "timestamp": stamp, "confidence": 0.99}).replace(
        "{", '{"price": ' + price + ", ", 1
    )
