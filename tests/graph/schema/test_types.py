"""The GraphQL object types on the offline service: what each field serves, federation
entities resolved through the loaders, and amounts that are null (with an error) when unknown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes import esplora
from tests.fakes import starknet as stark
from tests.graph.conftest import BTC_USD, STRK_USD, Offline, offline_service, offline_settings

NO_DECIMALS = "0x00" + "c" * 62


@pytest.fixture
def odd_token(tmp_path: Path) -> Iterator[Offline]:
    """The offline service, with a Starknet token that has no `decimals` view."""
    node = stark.mainnet({NO_DECIMALS: {stark.BALANCE_OF: lambda _: [5, 0]}})
    yield from offline_service(offline_settings(tmp_path), node)


def test_a_balance_serves_its_reading_token_value_and_account(offline: Offline) -> None:
    body = offline.api.query(
        """query($a: String!) { account(address: $a) { address balances {
             chain rawAmount amount blockNumber lastUpdated unconfirmedRawDelta valueUsd
             account { address }
             token { chain address tokenId standard symbol name decimals isSpam priceUsd } } } }""",
        {"a": esplora.P2TR.upper()},
    )
    account = body["data"]["account"]
    (row,) = account["balances"]
    assert account["address"] == row["account"]["address"] == esplora.P2TR
    assert row["chain"] == "bitcoin"
    assert (row["rawAmount"], row["amount"], row["unconfirmedRawDelta"]) == (
        "150000000",
        "1.5",
        "0",
    )
    assert row["blockNumber"] == str(esplora.TIP)
    assert datetime.fromisoformat(row["lastUpdated"]).tzinfo is not None
    assert Decimal(row["valueUsd"]) == Decimal("1.5") * Decimal(BTC_USD)
    assert row["token"] == {
        "chain": "bitcoin",
        "address": "native",
        "tokenId": None,
        "standard": "NATIVE",
        "symbol": "BTC",
        "name": "Bitcoin",
        "decimals": 8,
        "isSpam": False,
        "priceUsd": BTC_USD,
    }


def native(symbol: str, decimals: int) -> dict[str, object]:
    return {"address": "native", "standard": "NATIVE", "symbol": symbol, "decimals": decimals}


def test_chains_serve_their_config_and_native_token(offline: Offline) -> None:
    body = offline.api.query(
        "{ chains { id name family chainId nativeToken { address standard symbol decimals } } }"
    )
    assert body["data"]["chains"] == [
        {
            "id": "starknet",
            "name": "Starknet",
            "family": "STARKNET",
            "chainId": None,
            "nativeToken": {
                "address": "native",
                "standard": "NATIVE",
                "symbol": "STRK",
                "decimals": 18,
            },
        },
        {
            "id": "bitcoin",
            "name": "Bitcoin",
            "family": "BITCOIN",
            "chainId": None,
            "nativeToken": {
                "address": "native",
                "standard": "NATIVE",
                "symbol": "BTC",
                "decimals": 8,
            },
        },
    ]


def test_an_unknown_amount_is_null_with_token_metadata_unavailable(odd_token: Offline) -> None:
    body = odd_token.api.query(
        """query($a: String!, $t: [String!]) { account(address: $a) {
             balances(tokens: $t) { rawAmount amount valueUsd token { decimals } } } }""",
        {"a": stark.ALICE, "t": [NO_DECIMALS]},
    )
    (row,) = body["data"]["account"]["balances"]
    assert row == {"rawAmount": "5", "amount": None, "valueUsd": None, "token": {"decimals": None}}
    amount, decimals = sorted(body["errors"], key=lambda e: e["path"])
    assert amount["path"] == ["account", "balances", 0, "amount"]
    assert decimals["path"] == ["account", "balances", 0, "token", "decimals"]
    for error in (amount, decimals):
        assert error["extensions"]["code"] == "TOKEN_METADATA_UNAVAILABLE"
        assert error["extensions"]["token"] == NO_DECIMALS


def test_a_portfolio_serves_totals_per_chain(offline: Offline) -> None:
    body = offline.api.query(
        """query($a: String!) { account(address: $a) { portfolio {
             totalUsd complete failedChains unpricedCount updatedAt
             byChain { chain totalUsd } } } }""",
        {"a": stark.ALICE},
    )
    portfolio = body["data"]["account"]["portfolio"]
    strk = Decimal(7) * Decimal(STRK_USD)
    assert Decimal(portfolio["totalUsd"]) == strk
    assert portfolio["byChain"] == [{"chain": "starknet", "totalUsd": portfolio["totalUsd"]}]
    assert (portfolio["complete"], portfolio["failedChains"], portfolio["unpricedCount"]) == (
        True,
        [],
        0,
    )
    assert datetime.fromisoformat(portfolio["updatedAt"]).tzinfo is not None


def test_entities_resolve_through_the_loaders_with_canonical_keys(offline: Offline) -> None:
    shouting = "0x" + stark.TOKEN[2:].upper()
    body = offline.api.query(
        """query($r: [_Any!]!) { _entities(representations: $r) {
             ... on Account { address }
             ... on Token { chain address tokenId symbol decimals priceUsd } } }""",
        {
            "r": [
                {"__typename": "Account", "address": esplora.P2TR.upper()},
                {
                    "__typename": "Token",
                    "chain": "Starknet",
                    "address": shouting,
                },
                {"__typename": "Token", "chain": "starknet", "address": "native", "tokenId": None},
            ]
        },
    )
    assert "errors" not in body, body
    account, token, native = body["data"]["_entities"]
    assert account == {"address": esplora.P2TR}
    assert token == {
        "chain": "starknet",
        "address": stark.TOKEN,
        "tokenId": None,
        "symbol": "USDC",
        "decimals": 6,
        "priceUsd": None,
    }
    assert (native["address"], native["symbol"], native["priceUsd"]) == ("native", "STRK", STRK_USD)
    called = [c for batch in offline.node.batches for c in batch if c["method"] == "starknet_call"]
    assert {int(c["params"][0]["contract_address"], 16) for c in called} == {int(stark.TOKEN, 16)}
    assert len(offline.node.batches) == 1  # the token's metadata: one batch; native is listed
