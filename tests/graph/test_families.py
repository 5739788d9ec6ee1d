"""One service, three families: EVM on anvil, Starknet and Bitcoin on the spec-shaped fakes
of `tests.fakes`, DefiLlama prices on its fake coins API. Loopback traffic goes to the real
network stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from chains.starknet.provider import ETH_ADDRESS, STRK_ADDRESS
from tests.conftest import Api, Devnet, devnet_settings, serve
from tests.fakes import esplora as btc
from tests.fakes import starknet as stark
from tests.fakes.defillama import Llama, entry

BTC_USD, STRK_USD = "91234.5", "0.41"


class Router(httpx.AsyncBaseTransport):
    """Sends each host to its fake; loopback (anvil) to a real transport."""

    def __init__(self, fakes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.fakes = fakes
        self.real = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.fakes.get(request.url.host, self.real).handle_async_request(request)

    async def aclose(self) -> None:
        await self.real.aclose()


@pytest.fixture
def api(tmp_path: Path, devnet: Devnet) -> Iterator[Api]:
    esplora = btc.FakeEsplora(
        wallets={
            btc.P2TR: (btc.stats(funded=150_000_000, spent=50_000_000), btc.stats(spent=1_000))
        }
    )
    llama = Llama({"coingecko:bitcoin": entry(BTC_USD), "coingecko:starknet": entry(STRK_USD)})
    (tmp_path / "starknet.json").write_text(
        json.dumps(
            {
                "tokens": [
                    {"address": ETH_ADDRESS, "name": "Ether", "symbol": "ETH", "decimals": 18},
                    {"address": stark.TOKEN, "name": "USD Coin", "symbol": "USDC", "decimals": 6},
                ]
            }
        ),
        encoding="utf-8",
    )
    settings = devnet_settings(
        tmp_path,
        devnet,
        prices={"sources": ["defillama"], "defillama_url": "https://coins.example"},
        extra_chains={
            "starknet": {
                "family": "starknet",
                "rpc_urls": [stark.URL],
                "tokens": "starknet.json",
                "native": {
                    "symbol": "STRK",
                    "name": "Starknet Token",
                    "decimals": 18,
                    "price_id": "coingecko:starknet",
                    "contract": STRK_ADDRESS,
                },
            },
            "bitcoin": {
                "family": "bitcoin",
                "rpc_urls": ["https://esplora.example/api"],
                "native": {
                    "symbol": "BTC",
                    "name": "Bitcoin",
                    "decimals": 8,
                    "price_id": "coingecko:bitcoin",
                },
            },
        },
    )
    router = Router(
        {
            "starknet.example": httpx.MockTransport(stark.mainnet().handler),
            "esplora.example": btc.transport({"esplora.example": esplora}),
            "coins.example": httpx.MockTransport(llama.handler),
        }
    )
    yield from serve(settings, router)


QUERY = """query($a: String!) { account(address: $a) {
  address
  balances(minValueUsd: "0") {
    chain rawAmount amount unconfirmedRawDelta valueUsd token { address symbol decimals }
  }
  portfolio { totalUsd complete byChain { chain totalUsd } }
} }"""


def test_bitcoin_accounts_read_confirmed_and_pending_and_are_priced(api: Api) -> None:
    body = api.query(QUERY, {"a": btc.P2TR.upper()})  # bech32m: case-insensitive, canonical lower
    account = body["data"]["account"]
    assert account["address"] == btc.P2TR
    (row,) = account["balances"]
    assert row["chain"] == "bitcoin" and row["token"]["symbol"] == "BTC"
    assert row["rawAmount"] == "100000000" and row["amount"] == "1"
    assert row["unconfirmedRawDelta"] == "-1000"
    assert row["valueUsd"] == BTC_USD
    assert account["portfolio"] == {
        "totalUsd": BTC_USD,
        "complete": True,
        "byChain": [{"chain": "bitcoin", "totalUsd": BTC_USD}],
    }


def test_starknet_accounts_read_native_and_listed_tokens(api: Api) -> None:
    body = api.query(QUERY, {"a": stark.ALICE})
    rows = {r["token"]["symbol"]: r for r in body["data"]["account"]["balances"]}
    assert set(rows) == {"STRK", "ETH", "USDC"}
    assert {r["chain"] for r in rows.values()} == {"starknet"}
    assert rows["USDC"]["rawAmount"] == str(5 * 2**128 + 42)  # u256 across two felts
    assert rows["STRK"]["amount"] == "7"
    assert Decimal(rows["STRK"]["valueUsd"]) == 7 * Decimal(STRK_USD)
    assert rows["ETH"]["valueUsd"] is None  # the fake coins API has no ETH price
    assert body["data"]["account"]["portfolio"]["complete"] is False


def test_an_evm_address_is_not_read_on_starknet_or_bitcoin_by_default(
    api: Api, devnet: Devnet
) -> None:
    body = api.query(QUERY, {"a": devnet.holder})
    assert {r["chain"] for r in body["data"]["account"]["balances"]} == {"devnet"}
    assert api.upstream("starknet") == 0 and api.upstream("bitcoin") == 0
