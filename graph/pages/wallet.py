"""The wallet page: what one address holds, on a screen, built only on the public GraphQL API.

`/wallet` asks for an address; `/wallet/<address>` shows it: the total with its 24h change
and `complete` flag, the holdings by value a page at a time (`?rows=N` per page; logos,
amounts, prices, values, 24h change), a chart over time (`portfolioHistory`, drawn with
uPlot: the total where it is known and each chain's own line), each chain's share, and a
clicked token's `balanceHistory`. Errors stay visible where they apply:
a failed chain is named, unpriced rows are marked, an incomplete total says so.

Served like GraphiQL (`graph.pages.bundle`): no CDN, every script pinned by its integrity
hash, offline. The browser calls `/graphql` itself, with the API key typed on the page (kept
in the browser's local storage only when asked). The CSP allows scripts and requests to this
origin only, and images from https (token logos live on other hosts; a logo that cannot load
is replaced by the token's initials).
"""

from __future__ import annotations

import logging
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.pages.assets import WALLET_FILES
from graph.pages.bundle import Bundle, html_page

log = logging.getLogger("balance_graph")

CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ASSET_PREFIX = "/wallet-files/"
MAX_ADDRESS = 128
"""Longer than any address of any family: a longer path is no wallet."""
PAGE_ROWS = 10
MAX_PAGE_ROWS = 100
"""Holdings rows per page: `?rows=N` (1 to `MAX_PAGE_ROWS`), else `PAGE_ROWS`."""


class WalletPage:
    """The page (`/wallet`, `/wallet/<address>`) and its files (`routes`)."""

    def __init__(
        self,
        *,
        endpoint: str = "/graphql",
        node_modules: Path | None = None,
        vendor: Traversable | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.bundle = Bundle(WALLET_FILES, ASSET_PREFIX, node_modules=node_modules, vendor=vendor)
        if self.bundle.missing:
            log.warning("wallet page disabled: %s", "; ".join(self.bundle.missing))

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/wallet", self.page, methods=["GET"]),
            Route("/wallet/{address}", self.page, methods=["GET"]),
            *self.bundle.routes(),
        ]

    async def page(self, request: Request) -> Response:
        if self.bundle.missing:
            return PlainTextResponse(
                "the wallet page's files are not installed: in a checkout run `make serve` "
                "(npm ci); a wheel carries them\n",
                503,
                headers={"cache-control": "no-store"},
            )
        address = request.path_params.get("address", "")
        if len(address) > MAX_ADDRESS:
            return PlainTextResponse("not found\n", 404)
        root = request.scope.get("root_path", "")
        headers = {
            "content-security-policy": CSP,
            "cache-control": "no-cache",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
        }
        rows = _page_rows(request.query_params.get("rows"))
        return HTMLResponse(self._html(root, address, rows), headers=headers)

    def _html(self, root: str, address: str, rows: int) -> str:
        config = {
            "endpoint": root + self.endpoint,
            "address": address,
            "base": root + "/wallet",
            "pageRows": rows,
        }
        body = '<body><main id="wallet" aria-live="polite">Loading the wallet page…</main></body>'
        tags = self.bundle.tags(root)
        return html_page("balance-graph · wallet", tags, "wallet-config", config, body)


def _page_rows(text: str | None) -> int:
    """`?rows=`, clamped to 1..`MAX_PAGE_ROWS`; anything but a number is the default."""
    if text is None or not text.isdigit() or len(text) > 4:
        return PAGE_ROWS
    return max(1, min(MAX_PAGE_ROWS, int(text)))
