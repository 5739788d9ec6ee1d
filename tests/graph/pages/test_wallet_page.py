"""The wallet page's HTML and files, served without a browser: its CSP, its config block that
nothing in the URL can break out of, its pinned files, and a clear 503 when they are missing.
What it shows is tested in real Chromium (tests/browser/test_wallet.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

from graphql import parse, validate
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core.npm import find_node_modules
from graph.pages.assets import WALLET_FILES
from graph.pages.bundle import STATIC
from graph.pages.wallet import CSP, WalletPage
from graph.schema.subgraph import build_schema
from tests.conftest import ROOT

TAG = re.compile(r'(?:src|href)="(/wallet-files/[^"]+)" integrity="([^"]+)"')
CONFIG = re.compile(r'<script type="application/json" id="wallet-config">(.*?)</script>', re.S)


def client(page: WalletPage) -> TestClient:
    return TestClient(Starlette(routes=page.routes()))


def test_the_page_names_its_address_and_endpoint_and_pins_every_file() -> None:
    wallet = WalletPage(node_modules=find_node_modules())
    assert wallet.bundle.missing == []
    with client(wallet) as http:
        page = http.get("/wallet/0xAbC")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CSP
        assert "script-src" not in CSP and "'unsafe-inline'" not in CSP  # only our own files
        (config,) = CONFIG.findall(page.text)
        assert json.loads(config) == {
            "endpoint": "/graphql",
            "address": "0xAbC",
            "base": "/wallet",
            "pageRows": 10,
        }
        tags = TAG.findall(page.text)
        assert [url.split("?")[0].removeprefix("/wallet-files/") for url, _ in tags] == list(
            WALLET_FILES
        )
        for url, integrity in tags:
            asset = http.get(url)
            assert asset.status_code == 200
            assert wallet.bundle.assets[url.split("/")[-1].split("?")[0]].integrity == integrity
        assert http.get("/wallet").status_code == 200  # the form alone
        for asked, rows in [("4", 4), ("0", 1), ("100000", 10), ("-3", 10), ("x", 10)]:
            (config,) = CONFIG.findall(http.get(f"/wallet/0xA?rows={asked}").text)
            assert json.loads(config)["pageRows"] == rows, asked
        assert http.get("/wallet-files/react.production.min.js").status_code == 404  # not ours


def test_an_address_cannot_close_the_config_block_or_be_overlong() -> None:
    with client(WalletPage(node_modules=find_node_modules())) as http:
        hostile = "<!--<script>\"&'"  # would put the HTML parser in a double-escaped state
        page = http.get("/wallet/" + quote(hostile, safe=""))
        assert page.status_code == 200
        (config,) = CONFIG.findall(page.text)  # still exactly one block, closed where it should
        assert "<" not in config and ">" not in config and "&" not in config
        assert json.loads(config)["address"] == hostile  # the page still gets it whole
        assert http.get("/wallet/" + "a" * 129).status_code == 404


def test_a_root_path_prefixes_the_endpoint_and_the_files() -> None:
    wallet = WalletPage(node_modules=find_node_modules())
    app = Starlette(routes=wallet.routes())
    with TestClient(app, root_path="/balances") as http:
        page = http.get("/wallet/0xA")
        (config,) = CONFIG.findall(page.text)
        assert json.loads(config)["endpoint"] == "/balances/graphql"
        assert json.loads(config)["base"] == "/balances/wallet"
        assert all(url.startswith("/balances/wallet-files/") for url, _ in TAG.findall(page.text))


def test_missing_files_make_the_page_say_how_to_get_them(tmp_path: Path) -> None:
    wallet = WalletPage(node_modules=tmp_path)  # an empty node_modules
    assert any("uPlot" in missing for missing in wallet.bundle.missing)
    with client(wallet) as http:
        page = http.get("/wallet/0xA")
        assert page.status_code == 503 and "make serve" in page.text


WALLET_JS = (STATIC / "wallet.js").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPERATION = re.compile(r"const [A-Z_]+ = `(query [A-Za-z]+\(.*?)`;", re.S)
GRAPHQL_BLOCK = re.compile(r"^```graphql\n(.*?)^```", re.M | re.S)


def test_the_page_s_operations_are_the_readme_s_and_valid_for_the_schema() -> None:
    """The README recommends the wallet page's operations to frontends, word for word; each is
    valid against the schema this service serves (a renamed field fails here, not in a browser)."""
    operations = OPERATION.findall(WALLET_JS)
    names = [re.match(r"query (\w+)", op).group(1) for op in operations]  # type: ignore[union-attr]
    assert names == ["WalletSummary", "WalletHoldings", "WalletChart", "WalletTokenHistory"]
    blocks = [block.strip() for block in GRAPHQL_BLOCK.findall(README)]
    schema = build_schema()._schema  # graphql-core's: what requests are validated against
    for operation in operations:
        assert operation.strip() in blocks, operation.split("(")[0]
        assert validate(schema, parse(operation)) == []
