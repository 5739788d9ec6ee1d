"""Prices, values, dust and spam filters, NFTs and portfolio totals, against anvil."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CHAIN_ID,
    Api,
    Devnet,
    dead_chain,
    dead_url,
    devnet_settings,
    errors_by_code,
    serve,
)

ETH_USD, WETH_USD, USDC_USD = "3000.25", "3000.25", "0.9998"
ROWS = """query($a: String!, $min: Decimal, $spam: Boolean, $t: [String!]) {
  account(address: $a) {
    balances(minValueUsd: $min, includeSpam: $spam, tokens: $t) {
      rawAmount amount valueUsd
      token { address tokenId symbol standard decimals isSpam priceUsd priceUpdatedAt }
    }
  }
}"""


def prices(devnet: Devnet, *extra: str) -> dict[str, Any]:
    return {
        "sources": ["static", *extra],
        "static": {
            "devnet:native": ETH_USD,
            f"devnet:{devnet.sample.token('WETH').address.lower()}": WETH_USD,
            f"devnet:{devnet.sample.token('USDC').address}": USDC_USD,
        },
    }


@pytest.fixture(scope="module")
def collectibles(devnet: Devnet) -> dict[str, str]:
    """An ERC-721 (holder owns 2), an ERC-1155 (holder owns 5 of id 7) and a spammy token."""
    chain, holder = devnet.chain, devnet.holder
    nft = chain.deploy("TestNFT", "Devnet Punks", "DPUNK")
    chain.transact(nft, "mint(address,uint256)", holder, 1)
    chain.transact(nft, "mint(address,uint256)", holder, 2)
    multi = chain.deploy("TestMultiToken")
    chain.transact(multi, "mint(address,uint256,uint256)", holder, 7, 5)
    bait = chain.deploy("TestToken", "Visit claim-rewards.xyz", "$ CLAIM", 18)
    chain.transact(bait, "mint(address,uint256)", holder, 10**20)
    denied = chain.deploy("TestToken", "Totally Legit", "LEGIT", 18)
    chain.transact(denied, "mint(address,uint256)", holder, 10**18)
    return {"nft": nft, "multi": multi, "bait": bait, "denied": denied}


def token_entries(collectibles: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "chainId": CHAIN_ID,
            "address": collectibles["nft"],
            "name": "Devnet Punks",
            "symbol": "DPUNK",
            "extensions": {"standard": "ERC721"},
        },
        {
            "chainId": CHAIN_ID,
            "address": collectibles["multi"],
            "name": "Game Items",
            "symbol": "ITEM",
            "extensions": {"standard": "ERC1155", "tokenId": "7"},
        },
        {
            "chainId": CHAIN_ID,
            "address": collectibles["denied"],
            "name": "Totally Legit",
            "symbol": "LEGIT",
            "decimals": 18,
        },
    ]


@pytest.fixture
def priced(tmp_path: Path, devnet: Devnet, collectibles: dict[str, str]) -> Iterator[Api]:
    settings = devnet_settings(
        tmp_path,
        devnet,
        tokens=token_entries(collectibles),
        prices=prices(devnet),
        spam={"deny": [f"devnet:{collectibles['denied']}"]},
    )
    yield from serve(settings)


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["token"]["symbol"]: r for r in body["data"]["account"]["balances"]}


def test_values_are_exact_and_unpriced_dust_is_hidden_by_default(
    priced: Api, devnet: Devnet
) -> None:
    body = priced.query(ROWS, {"a": devnet.holder})
    got = rows(body)
    assert set(got) == {"ETH", "USDC", "WETH"}  # MKR and the NFTs are unpriced: dust by default
    usdc = got["USDC"]
    assert usdc["token"]["priceUsd"] == USDC_USD
    assert Decimal(usdc["valueUsd"]) == Decimal("1234.5") * Decimal(USDC_USD)
    assert usdc["valueUsd"] == "1234.2531"  # exact decimal arithmetic, no float
    eth_raw = devnet.chain.get_balance(devnet.holder)
    assert Decimal(got["ETH"]["valueUsd"]) == Decimal(eth_raw) / 10**18 * Decimal(ETH_USD)
    assert "errors" not in body
    assert priced.upstream() == 1  # balances, metadata: one request; static prices: none


def test_min_value_zero_keeps_everything_with_nft_standards(
    priced: Api, devnet: Devnet, collectibles: dict[str, str]
) -> None:
    got = rows(priced.query(ROWS, {"a": devnet.holder, "min": "0"}))
    assert {"MKR", "DPUNK", "ITEM"} <= set(got)
    assert got["MKR"]["valueUsd"] is None and got["MKR"]["token"]["priceUsd"] is None
    assert got["DPUNK"]["rawAmount"] == "2" and got["DPUNK"]["token"]["standard"] == "ERC721"
    item = got["ITEM"]
    assert item["rawAmount"] == "5" and item["amount"] == "5"
    assert item["token"]["standard"] == "ERC1155" and item["token"]["tokenId"] == "7"
    assert item["token"]["address"] == collectibles["multi"]
    assert "CLAIM" not in " ".join(got) and "LEGIT" not in got  # spam stays hidden


def test_positive_min_value_drops_cheap_tokens_but_keeps_native(
    priced: Api, devnet: Devnet
) -> None:
    third = devnet.sample.holders[2]  # 3 x 1234.5 USDC, 3 x 0.75 WETH
    got = rows(priced.query(ROWS, {"a": third, "min": "5000"}))
    assert set(got) == {"ETH", "WETH"}  # 6750.56 USD of WETH stays, 3703.5 of USDC goes
    got = rows(priced.query(ROWS, {"a": third, "min": "100000000"}))
    assert set(got) == {"ETH"}  # native is always kept


def test_spam_is_hidden_unless_asked_for(
    priced: Api, devnet: Devnet, collectibles: dict[str, str]
) -> None:
    usdc = devnet.sample.token("USDC").address
    named = [collectibles["bait"], collectibles["denied"], usdc]  # unlisted ones must be named
    hidden = priced.query(ROWS, {"a": devnet.holder, "min": "0", "t": named})
    assert [r["token"]["symbol"] for r in hidden["data"]["account"]["balances"]] == ["USDC"]
    body = priced.query(ROWS, {"a": devnet.holder, "min": "0", "spam": True, "t": named})
    got = {r["token"]["address"]: r["token"] for r in body["data"]["account"]["balances"]}
    assert got[collectibles["bait"]]["isSpam"] is True  # heuristic: unlisted and baiting
    assert got[collectibles["denied"]]["isSpam"] is True  # operator deny list
    assert got[usdc]["isSpam"] is False


def test_explicit_tokens_are_returned_even_when_unpriced(priced: Api, devnet: Devnet) -> None:
    mkr = devnet.sample.token("MKR").address
    got = rows(priced.query(ROWS, {"a": devnet.holder, "t": [mkr]}))
    assert set(got) == {"MKR"} and got["MKR"]["valueUsd"] is None


def test_a_failing_price_source_keeps_rows_and_reports_once(tmp_path: Path, devnet: Devnet) -> None:
    config = prices(devnet, "defillama")
    config["defillama_url"] = dead_url()
    for api in serve(devnet_settings(tmp_path, devnet, prices=config)):
        body = api.query(ROWS, {"a": devnet.holder})
        got = rows(body)
        assert set(got) == {"ETH", "USDC", "WETH", "MKR"}  # MKR kept: its worth is unknown
        assert got["MKR"]["valueUsd"] is None
        assert got["USDC"]["valueUsd"] == "1234.2531"  # the static source still answered
        (error,) = errors_by_code(body)["PRICE_UNAVAILABLE"]
        assert error["extensions"]["retryable"] is True
        assert len(body["errors"]) == 1
        assert api.services.metrics.upstream_requests.total(chain="defillama") == 1


PORTFOLIO = """query($a: String!, $min: Decimal) { account(address: $a) {
  portfolio(minValueUsd: $min) {
    totalUsd complete failedChains unpricedCount updatedAt byChain { chain totalUsd } } } }"""


def test_portfolio_totals_and_completeness(priced: Api, devnet: Devnet) -> None:
    second = devnet.sample.holders[1]
    eth = Decimal(devnet.chain.get_balance(second)) / 10**18 * Decimal(ETH_USD)
    usdc = Decimal("2469.0") * Decimal(USDC_USD)
    weth = Decimal("1.5") * Decimal(WETH_USD)
    body = priced.query(PORTFOLIO, {"a": second})
    portfolio = body["data"]["account"]["portfolio"]
    assert Decimal(portfolio["totalUsd"]) == eth + usdc + weth
    assert portfolio["byChain"] == [{"chain": "devnet", "totalUsd": portfolio["totalUsd"]}]
    assert portfolio["complete"] is False  # MKR is held and unpriced
    assert portfolio["unpricedCount"] == 1 and portfolio["failedChains"] == []


def test_portfolio_is_complete_when_everything_is_priced(tmp_path: Path, devnet: Devnet) -> None:
    config = prices(devnet)
    config["static"][f"devnet:{devnet.sample.token('MKR').address}"] = "1500"
    for api in serve(devnet_settings(tmp_path, devnet, prices=config)):
        portfolio = api.query(PORTFOLIO, {"a": devnet.sample.holders[1]})["data"]["account"]
        assert portfolio["portfolio"]["complete"] is True
        assert portfolio["portfolio"]["unpricedCount"] == 0


def test_mixed_failures_in_one_query(tmp_path: Path, devnet: Devnet) -> None:
    down = dead_chain()
    settings = devnet_settings(tmp_path, devnet, prices=prices(devnet), extra_chains={"down": down})
    for api in serve(settings):
        body = api.query(
            """query($good: String!) {
              accounts(addresses: [$good, "0xnope"]) {
                address
                balances(minValueUsd: "0") { chain valueUsd token { symbol } }
                portfolio { totalUsd complete failedChains unpricedCount }
              }
            }""",
            {"good": devnet.holder},
        )
        good, bad = body["data"]["accounts"]
        assert bad is None
        assert {r["token"]["symbol"] for r in good["balances"]} == {"ETH", "USDC", "WETH", "MKR"}
        assert good["portfolio"]["complete"] is False
        assert good["portfolio"]["failedChains"] == ["down"]
        assert good["portfolio"]["unpricedCount"] == 1
        codes = errors_by_code(body)
        assert [e["path"] for e in codes["INVALID_ADDRESS"]] == [["accounts", 1]]
        (down_error,) = codes["UPSTREAM_PROVIDER_ERROR"]  # met twice, reported once
        assert down_error["path"] == ["accounts", 0, "balances"]
        assert down_error["extensions"]["chain"] == "down"
        assert set(codes) == {"INVALID_ADDRESS", "UPSTREAM_PROVIDER_ERROR"}
        assert api.upstream("devnet") == 1


def test_unlisted_nfts_are_detected_in_the_same_multicall(
    api: Api, devnet: Devnet, collectibles: dict[str, str]
) -> None:
    multi = f"{collectibles['multi'].lower()}:7"
    body = api.query(
        ROWS.replace("priceUsd priceUpdatedAt", ""),
        {"a": devnet.holder, "t": [collectibles["nft"], multi]},
    )
    got = {
        r["token"]["symbol"] or r["token"]["standard"]: r
        for r in body["data"]["account"]["balances"]
    }
    assert got["DPUNK"]["token"]["standard"] == "ERC721"  # found by supportsInterface
    assert got["DPUNK"]["token"]["decimals"] == 0 and got["DPUNK"]["amount"] == "2"
    assert got["ERC1155"]["rawAmount"] == "5" and got["ERC1155"]["token"]["tokenId"] == "7"
    assert api.upstream() == 1  # both balances and both tokens' metadata: one aggregate3


def test_two_ids_of_one_erc1155_contract_are_two_federation_entities(
    priced: Api, collectibles: dict[str, str]
) -> None:
    multi = collectibles["multi"]
    body = priced.query(
        """query($r: [_Any!]!) { _entities(representations: $r) {
            ... on Token { chain address tokenId standard symbol } } }""",
        {
            "r": [
                {"__typename": "Token", "chain": "devnet", "address": multi, "tokenId": "7"},
                {"__typename": "Token", "chain": "devnet", "address": multi, "tokenId": "8"},
                {"__typename": "Token", "chain": "devnet", "address": "native", "tokenId": None},
            ]
        },
    )
    assert "errors" not in body, body["errors"]
    seven, eight, native = body["data"]["_entities"]
    assert seven == {
        "chain": "devnet",
        "address": multi,
        "tokenId": "7",
        "standard": "ERC1155",
        "symbol": "ITEM",  # listed
    }
    assert (eight["address"], eight["tokenId"], eight["standard"]) == (multi, "8", "ERC1155")
    assert eight["symbol"] is None  # unlisted: read from the chain, which has no symbol()
    assert (native["address"], native["tokenId"], native["standard"]) == ("native", None, "NATIVE")
