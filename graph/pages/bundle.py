"""The files one static page is made of, read once and served as immutable assets.

A page names its files (`assets.PAGE_FILES`, `assets.WALLET_FILES`): ours from
`graph/pages/static`, the npm ones from the installed package's vendored copy (checked against
its manifest's sha384 hashes; a file that does not match is not served) or, in a checkout,
from `node_modules`. Each asset carries a Subresource Integrity hash of the bytes read at
start-up, and its route serves exactly those bytes, so the hash cannot disagree with what is
sent; the `?v=` digest lets browsers cache them as immutable yet fetch new ones after an
upgrade. Missing files do not fail construction: `missing` says what, and the page answers 503.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from core.npm import find_node_modules
from graph.pages.assets import MANIFEST_NAME, VENDOR_DIR, Manifest, NpmFile, sri

STATIC = Path(__file__).parent / "static"
_JS, _CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
_IMMUTABLE = "public, max-age=31536000, immutable"


def packaged_vendor_dir() -> Traversable:
    """`graph/pages/static/vendor/` of the installed package (in wheels, not in checkouts)."""
    return resources.files("graph.pages").joinpath(*VENDOR_DIR.split("/"))


class Asset:
    """One served file: its bytes, their SRI hash, and a gzip copy made on first need."""

    def __init__(self, name: str, body: bytes, prefix: str) -> None:
        self.name, self.body, self.prefix = name, body, prefix
        self.integrity = sri(body)
        self.version = hashlib.sha384(body).hexdigest()[:16]
        self.media_type = _CSS if name.endswith(".css") else _JS

    @cached_property
    def gzipped(self) -> bytes:
        return gzip.compress(self.body, 6, mtime=0)

    def tag(self, root_path: str) -> str:
        href = html.escape(f"{root_path}{self.prefix}{self.name}?v={self.version}")
        if self.media_type == _CSS:
            return f'<link rel="stylesheet" href="{href}" integrity="{self.integrity}">'
        return f'<script src="{href}" integrity="{self.integrity}" defer></script>'


class Bundle:
    """A page's files (`files`: served name -> its npm file, `None` for ours), served under
    `prefix`. The npm files come from `vendor` or `node_modules` when one is given, else from
    the installed package's vendored copy if it has one, else from `find_node_modules()`."""

    def __init__(
        self,
        files: Mapping[str, NpmFile | None],
        prefix: str,
        *,
        node_modules: Path | None = None,
        vendor: Traversable | None = None,
    ) -> None:
        if node_modules is None and vendor is None:
            packaged = packaged_vendor_dir()
            if packaged.joinpath(MANIFEST_NAME).is_file():
                vendor = packaged
            else:
                node_modules = find_node_modules()
        self.prefix = prefix
        self.assets: dict[str, Asset] = {}
        self.missing: list[str] = []
        if vendor is not None:
            self.source = f"{vendor} (vendored)"
            bodies = self._read_vendored(files, vendor)
        else:
            assert node_modules is not None
            self.source = str(node_modules)
            bodies = self._read_node_modules(files, node_modules)
        for name, body in bodies.items():
            self.assets[name] = Asset(name, body, prefix)

    def tags(self, root_path: str) -> str:
        return "\n".join(asset.tag(root_path) for asset in self.assets.values())

    def routes(self) -> list[BaseRoute]:
        """`GET <prefix>{name}` for this page's files only; anything else is 404."""
        return [Route(self.prefix + "{name}", self._asset, methods=["GET"])]

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

    def _read_node_modules(
        self, files: Mapping[str, NpmFile | None], node_modules: Path
    ) -> dict[str, bytes]:
        bodies: dict[str, bytes] = {}
        for name, npm in files.items():
            path = STATIC / name if npm is None else node_modules / npm.package / npm.path
            try:
                bodies[name] = path.read_bytes()
            except OSError:
                self.missing.append(f"missing {path}")
        return bodies

    def _read_vendored(
        self, files: Mapping[str, NpmFile | None], vendor: Traversable
    ) -> dict[str, bytes]:
        try:
            manifest = Manifest.loads(vendor.joinpath(MANIFEST_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.missing.append(f"unreadable {vendor}/{MANIFEST_NAME}: {exc}")
            return {}
        bodies: dict[str, bytes] = {}
        for name, npm in files.items():
            if npm is None:
                try:
                    bodies[name] = (STATIC / name).read_bytes()
                except OSError:
                    self.missing.append(f"missing {STATIC / name}")
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


def html_page(title: str, tags: str, config_id: str, config: object, body: str) -> str:
    """A page of ours: its files' `tags`, its `config` as a JSON block its script reads (`<`,
    `>` and `&` escaped, so the JSON can never close its <script> block), then `body`."""
    data = json.dumps(config).translate({60: "\\u003c", 62: "\\u003e", 38: "\\u0026"})
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{tags}
<script type="application/json" id="{config_id}">{data}</script>
</head>
{body}
</html>
"""


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() == "gzip":
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False
