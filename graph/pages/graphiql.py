"""GraphiQL served by the service itself: no CDN, no inline script, a strict CSP.

The page loads React and GraphiQL (pinned in package-lock.json), our explorer and our init
script, all through `/graphiql/<file>?v=<digest>`, each pinned by its Subresource Integrity
hash (`graph.pages.bundle`: vendored into wheels, read from `node_modules` in a checkout,
~4 MB held in memory). The init script reads its settings from a
`<script type="application/json">` block, which browsers never execute.

The page's Content-Security-Policy, directive by directive:

- `default-src 'self'`: scripts and the fetcher's POSTs (connect-src) stay on this origin.
  No `'unsafe-eval'`: GraphiQL 3's only `new Function` is webpack's fallback for browsers
  without `globalThis`, never reached.
- `style-src 'self' 'unsafe-inline'`: Radix dialogs (settings, shortcuts) lock scrolling with
  `react-remove-scroll`, which injects a `<style>` element whose nonce only webpack internals
  could set; without `'unsafe-inline'` opening them is a CSP violation. Styles cannot run code.
- `img-src 'self' data:`, `font-src 'self' data:`: graphiql.min.css embeds its fonts (Roboto,
  Fira Code) and a few PNGs as `data:` URLs; it references nothing else.
- `object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`: unused by
  the page, and the last three are not covered by `default-src`.
"""

from __future__ import annotations

import json
import logging
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

from graph.pages.assets import PAGE_FILES
from graph.pages.bundle import Asset, Bundle, html_page

log = logging.getLogger("balance_graph")

CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
NOT_INSTALLED = (
    "GraphiQL assets are not installed: in a checkout run `make serve` (npm ci); "
    "a wheel carries them (built by setup.py)\n"
)
EXAMPLE_ADDRESS = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
ASSET_PREFIX = "/graphiql/"
"""Where the npm files are, when not in the installed package nor above this checkout."""
CHAINS_QUERY = "# The chains this service reads.\nquery Chains {\n  chains { id name }\n}\n"


def account_query(address: str) -> str:
    """The first tab: one account's balances on every chain its address fits."""
    return (
        "# What one address holds, on every chain its address format fits.\n"
        "# Without a key, calls are rate-limited per IP. With one, put it in Headers below:\n"
        '#   {"x-api-key": "bgk_..."}   (or api-key, or Authorization: Bearer bgk_...)\n'
        "query AccountBalances {\n"
        f"  account(address: {json.dumps(address)}) {{\n"
        "    address\n"
        "    balances {\n"
        "      chain\n      rawAmount\n      amount\n      valueUsd\n"
        "      token { symbol decimals }\n"
        "    }\n  }\n}\n"
    )


def pairs_query(address: str, chain: str) -> str:
    """The second tab: explicit (account, chain, token) lookups in one call."""
    return (
        "# Explicit lookups, answered in the order asked; a failed pair is null.\n"
        "query PairBalances {\n  balances(pairs: [\n"
        f'    {{ account: {json.dumps(address)}, chain: {json.dumps(chain)}, token: "native" }}\n'
        "  ]) {\n    chain\n    rawAmount\n    amount\n    token { symbol decimals }\n  }\n}\n"
    )


class GraphiQL:
    """The GraphiQL page (`page`) and its assets (`routes`), read from disk once, here.

    The npm files come from `vendor` (a directory with a manifest) or `node_modules` when one is
    given, else from the installed package's vendored copy if it has one, else from
    `find_node_modules()`. Missing or mismatching files do not fail construction: the page then
    answers 503 and the API is unaffected.
    """

    def __init__(
        self,
        node_modules: Path | None = None,
        *,
        vendor: Traversable | None = None,
        endpoint: str = "/graphql",
        address: str = EXAMPLE_ADDRESS,
        chain: str = "ethereum",
        default_query: str | None = None,
        default_headers: str = '{"x-api-key": ""}',
    ) -> None:
        self.endpoint = endpoint
        self.default_headers = default_headers
        first = default_query or account_query(address)
        self.tabs = [first, pairs_query(address, chain), CHAINS_QUERY]
        self.bundle = Bundle(PAGE_FILES, ASSET_PREFIX, node_modules=node_modules, vendor=vendor)
        if self.missing:
            log.warning("GraphiQL disabled: %s", "; ".join(self.missing))
        else:
            log.debug("GraphiQL assets from %s", self.source)

    @property
    def assets(self) -> dict[str, Asset]:
        return self.bundle.assets

    @property
    def missing(self) -> list[str]:
        return self.bundle.missing

    @property
    def source(self) -> str:
        return self.bundle.source

    async def page(self, request: Request) -> Response:
        """The HTML page, with its CSP; 503 when an asset is missing."""
        if self.missing:
            return PlainTextResponse(NOT_INSTALLED, 503, headers={"cache-control": "no-store"})
        root = request.scope.get("root_path", "")
        headers = {
            "content-security-policy": CSP,
            "cache-control": "no-cache",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
        }
        return HTMLResponse(self._html(root), headers=headers)

    def routes(self) -> list[BaseRoute]:
        """`GET /graphiql/{name}` for the whitelisted files only; anything else is 404."""
        return self.bundle.routes()

    def _html(self, root: str) -> str:
        config = {
            "endpoint": root + self.endpoint,
            "headers": self.default_headers,
            "tabs": [{"query": q, "headers": self.default_headers} for q in self.tabs],
        }
        body = '<body><div id="graphiql">Loading GraphiQL…</div></body>'
        tags = self.bundle.tags(root)
        return html_page("balance-graph · GraphiQL", tags, "graphiql-config", config, body)
