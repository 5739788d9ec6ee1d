"""GraphiQL served by the service itself: no CDN, no inline script, a strict CSP.

The page loads React, GraphiQL and its explorer plugin (pinned in package-lock.json) and our
init script from `graph/pages/static`, all through `/graphiql/<file>?v=<digest>`. An installed wheel
carries the npm files in `graph/pages/static/vendor/` with a manifest of their sha384 hashes (see
`graph.pages.assets`), and a file that does not match it is not served; a checkout without
that directory serves them from `node_modules` (installed by `npm ci`).

Each tag carries a Subresource Integrity hash of the bytes read at start-up, and the asset
routes serve exactly those bytes (held in memory, ~4 MB), so the hash cannot disagree with what
is sent; the `?v=` digest lets browsers cache the files as immutable yet fetch new ones after an
upgrade. The init script reads its settings from a `<script type="application/json">` block,
which browsers never execute.

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

import gzip
import hashlib
import html
import json
import logging
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from core.npm import find_node_modules
from graph.pages.assets import MANIFEST_NAME, PAGE_FILES, VENDOR_DIR, Manifest, sri

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

_STATIC = Path(__file__).parent / "static"
_JS, _CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
_IMMUTABLE = "public, max-age=31536000, immutable"


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


def packaged_vendor_dir() -> Traversable:
    """`graph/pages/static/vendor/` of the installed package (in wheels, not in checkouts)."""
    return resources.files("graph.pages").joinpath(*VENDOR_DIR.split("/"))


class Asset:
    """One served file: its bytes, their SRI hash, and a gzip copy made on first need."""

    def __init__(self, name: str, body: bytes) -> None:
        self.name, self.body = name, body
        self.integrity = sri(body)
        self.version = hashlib.sha384(body).hexdigest()[:16]
        self.media_type = _CSS if name.endswith(".css") else _JS

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, 6, mtime=0)

    def tag(self, root_path: str) -> str:
        href = html.escape(f"{root_path}{ASSET_PREFIX}{self.name}?v={self.version}")
        if self.media_type == _CSS:
            return f'<link rel="stylesheet" href="{href}" integrity="{self.integrity}">'
        return f'<script src="{href}" integrity="{self.integrity}" defer></script>'


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
        if node_modules is None and vendor is None:
            packaged = packaged_vendor_dir()
            if packaged.joinpath(MANIFEST_NAME).is_file():
                vendor = packaged
            else:
                node_modules = find_node_modules()
        self.endpoint = endpoint
        self.default_headers = default_headers
        first = default_query or account_query(address)
        self.tabs = [first, pairs_query(address, chain), CHAINS_QUERY]
        self.assets: dict[str, Asset] = {}
        self.missing: list[str] = []
        if vendor is not None:
            self.source = f"{vendor} (vendored)"
            bodies = self._read_vendored(vendor)
        else:
            assert node_modules is not None
            self.source = str(node_modules)
            bodies = self._read_node_modules(node_modules)
        for name, body in bodies.items():
            self.assets[name] = Asset(name, body)
        if self.missing:
            log.warning("GraphiQL disabled: %s", "; ".join(self.missing))
        else:
            log.debug("GraphiQL assets from %s", self.source)

    def _read_node_modules(self, node_modules: Path) -> dict[str, bytes]:
        bodies: dict[str, bytes] = {}
        for name, npm in PAGE_FILES.items():
            path = _STATIC / name if npm is None else node_modules / npm.package / npm.path
            try:
                bodies[name] = path.read_bytes()
            except OSError:
                self.missing.append(f"missing {path}")
        return bodies

    def _read_vendored(self, vendor: Traversable) -> dict[str, bytes]:
        try:
            manifest = Manifest.loads(vendor.joinpath(MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.missing.append(f"unreadable {vendor}/{MANIFEST_NAME}: {exc}")
            return {}
        bodies: dict[str, bytes] = {}
        for name, npm in PAGE_FILES.items():
            if npm is None:
                try:
                    bodies[name] = (_STATIC / name).read_bytes()
                except OSError:
                    self.missing.append(f"missing {_STATIC / name}")
                continue
            entry = manifest.files.get(name)
            try:
                body = vendor.joinpath(name).read_bytes()
            except OSError:
                self.missing.append(f"missing {vendor}/{name}")
                continue
            if entry is None or sri(body) != entry.integrity:
                self.missing.append(f"{vendor}/{name} does not match {MANIFEST_NAME}")
                continue
            bodies[name] = body
        return bodies

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
        return [Route(ASSET_PREFIX + "{name}", self._asset, methods=["GET"])]

    async def _asset(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["name"])
        if asset is None or request.query_params.get("v", asset.version) != asset.version:
            return PlainTextResponse("not found\n", 404)
        headers = {
            "cache-control": _IMMUTABLE,
            "vary": "accept-encoding",
            "x-content-type-options": "nosniff",
        }
        body = asset.body
        if _accepts_gzip(request.headers.get("accept-encoding", "")):
            body = await run_in_threadpool(lambda: asset.gzipped)
            headers["content-encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)

    def _html(self, root: str) -> str:
        config = {
            "endpoint": root + self.endpoint,
            "headers": self.default_headers,
            "tabs": [{"query": q, "headers": self.default_headers} for q in self.tabs],
        }
        # `<`, `>` and `&` escaped: the JSON can never close its <script> block.
        data = json.dumps(config).translate({60: "\\u003c", 62: "\\u003e", 38: "\\u0026"})
        tags = "\n".join(asset.tag(root) for asset in self.assets.values())
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>balance-graph · GraphiQL</title>
<link rel="icon" href="data:,">
{tags}
<script type="application/json" id="graphiql-config">{data}</script>
</head>
<body><div id="graphiql">Loading GraphiQL…</div></body>
</html>
"""


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False
