"""GraphiQL as served by the service: a real browser offline, its CSP, its SRI-pinned assets."""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from core.npm import find_node_modules
from graph.pages.assets import MANIFEST_NAME, Manifest, VendoredFile, npm_files, sri
from graph.pages.graphiql import NOT_INSTALLED, GraphiQL
from tests.conftest import Devnet, devnet_settings, live_server, run_node_test

NODE_TEST = str(Path(__file__).with_name("graphiql.test.mjs"))
ASSETS = {
    "graphiql.min.css",
    "explorer.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "explorer.js",
    "graphiql-init.js",
}
TAG = re.compile(r'(?:src|href)="(/graphiql/[^"]+)" integrity="(sha384-[^"]+)"')


@pytest.fixture(scope="module")
def service(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(devnet_settings(tmp_path_factory.mktemp("graphiql"), devnet)) as url:
        yield url


def test_graphiql_and_its_explorer_run_queries_in_headless_chromium_without_internet(
    service: str, devnet: Devnet, tmp_path: Path
) -> None:
    # The browser: $CHROMIUM, a system one, else the npm package's (tests/browser/chromium.mjs).
    screenshot = tmp_path / "graphiql.png"
    env = {
        "BG_URL": service,
        "BG_ACCOUNT": devnet.holder,
        "BG_EXPECTED_RAW": str(devnet.sample.balance(devnet.holder, "USDC")),
        "BG_TOKEN": devnet.sample.token("USDC").address,
        "BG_SCREENSHOT": str(screenshot),
    }
    output = run_node_test(NODE_TEST, env, timeout=90)
    assert "browser: " in output
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size > 10_000


def test_page_pins_each_asset_by_integrity_under_a_strict_csp(service: str) -> None:
    page = httpx.get(f"{service}/graphql", headers={"accept": "text/html"}, timeout=10)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-eval" not in csp
    assert "<script>" not in page.text  # no inline script: only src= and a JSON data block
    tags = [(html.unescape(url), integrity) for url, integrity in TAG.findall(page.text)]
    assert {url.split("?")[0].removeprefix("/graphiql/") for url, _ in tags} == ASSETS
    for url, integrity in tags:
        asset = httpx.get(service + url, timeout=10)
        assert asset.status_code == 200, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f"sha384-{digest}" == integrity, url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/css" if url.split("?")[0].endswith(".css") else "text/javascript"
        assert asset.headers["content-type"].startswith(kind), url
    big = httpx.get(f"{service}/graphiql/graphiql.min.js", headers={"accept-encoding": "gzip"})
    assert big.headers["content-encoding"] == "gzip"
    assert int(big.headers["content-length"]) < len(big.content) / 3


@pytest.mark.parametrize(
    "path",
    [
        "/graphiql/package.json",
        "/graphiql/graphiql.min.js.map",
        "/graphiql/..",
        "/graphiql/../pyproject.toml",
        "/graphiql/..%2F..%2Fpyproject.toml",
        "/graphiql/%2e%2e/%2e%2e/pyproject.toml",
        "/graphiql/graphiql%2Fpackage.json",
        "/graphiql/graphiql.min.js?v=0000000000000000",
    ],
)
def test_only_whitelisted_assets_are_served(service: str, path: str) -> None:
    # http.client sends the path as written: httpx resolves `..` segments (even in a raw
    # path), which turned `/graphiql/..` into a request for `/`.
    connection = http.client.HTTPConnection(httpx.URL(service).host, httpx.URL(service).port)
    try:
        connection.request("GET", path)
        assert connection.getresponse().status == 404
    finally:
        connection.close()


def test_missing_assets_make_the_page_503_with_the_fix(tmp_path: Path) -> None:
    graphiql = GraphiQL(tmp_path / "node_modules")
    app = Starlette(routes=[Route("/graphql", graphiql.page), *graphiql.routes()])
    with TestClient(app) as client:
        page = client.get("/graphql")
        assert page.status_code == 503
        assert page.text == NOT_INSTALLED
        assert "npm ci" in page.text
        assert client.get("/graphiql/graphiql.min.js").status_code == 404


def vendored_copy(node_modules: Path, out: Path) -> Manifest:
    """What a wheel carries: the served npm files (from a checkout's node_modules) + manifest."""
    out.mkdir()
    files = {}
    for name, npm in npm_files().items():
        body = (node_modules / npm.package / npm.path).read_bytes()
        (out / name).write_bytes(body)
        files[name] = VendoredFile(npm.package, npm.path, sri(body))
    manifest = Manifest({}, files)
    (out / MANIFEST_NAME).write_text(manifest.dumps())
    return manifest


def test_vendored_assets_are_served_as_their_manifest_pins_them(tmp_path: Path) -> None:
    manifest = vendored_copy(find_node_modules(), tmp_path / "vendor")
    graphiql = GraphiQL(vendor=tmp_path / "vendor")
    app = Starlette(routes=[Route("/graphql", graphiql.page), *graphiql.routes()])
    with TestClient(app) as client:
        page = client.get("/graphql")
        assert page.status_code == 200, page.text
        tags = dict(
            (url.split("?")[0].removeprefix("/graphiql/"), i) for url, i in TAG.findall(page.text)
        )
        assert tags.keys() == ASSETS
        for name, entry in manifest.files.items():
            if name not in ASSETS:
                continue  # the wallet page's
            assert tags[name] == entry.integrity
            assert (
                client.get(f"/graphiql/{name}").content == (tmp_path / "vendor" / name).read_bytes()
            )


def test_a_vendored_file_that_does_not_match_its_manifest_is_not_served(tmp_path: Path) -> None:
    vendored_copy(find_node_modules(), tmp_path / "vendor")
    (tmp_path / "vendor" / "react.production.min.js").write_bytes(b"window.evil = 1;")
    graphiql = GraphiQL(vendor=tmp_path / "vendor")
    assert graphiql.missing == [
        f"{tmp_path / 'vendor'}/react.production.min.js does not match manifest.json"
    ]
    app = Starlette(routes=[Route("/graphql", graphiql.page), *graphiql.routes()])
    with TestClient(app) as client:
        assert client.get("/graphql").status_code == 503
        assert client.get("/graphiql/react.production.min.js").status_code == 404


def test_the_package_s_vendored_copy_wins_and_a_checkout_falls_back_to_node_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = tmp_path / "graph" / "pages" / "static" / "vendor"
    monkeypatch.setattr("graph.pages.bundle.packaged_vendor_dir", lambda: packaged)
    checkout = GraphiQL()  # no vendor directory, as in a checkout
    assert checkout.missing == []
    assert checkout.source == str(find_node_modules())
    packaged.parent.mkdir(parents=True)
    vendored_copy(find_node_modules(), packaged)
    wheel = GraphiQL()  # as installed from a wheel
    assert wheel.missing == []
    assert wheel.source == f"{packaged} (vendored)"
