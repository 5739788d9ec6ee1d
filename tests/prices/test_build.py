"""build_price_reader: the configured sources, in order, with canonical keys and coin ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from chains.cache.memory import MemoryCache
from chains.registry import build_registry
from core.errors import PriceUnavailable
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, TokenRef
from core.pools import Pools
from prices.base import PriceKey, Quote
from prices.build import build_price_reader
from prices.reader import PriceReader
from settings import ConfigError, parse_settings
from tests.fakes.defillama import Llama, entry
from tests.fakes.service import new_store

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
NATIVE = {"symbol": "ETH", "name": "Ether", "decimals": 18}
CHAINS: dict[str, Any] = {
    "eth": {
        "chain_id": 1,
        "rpc_urls": ["https://eth.example"],
        "native": {**NATIVE, "price_id": "coingecko:ethereum"},
    },
    "op": {
        "chain_id": 10,
        "rpc_urls": ["https://op.example"],
        "native": NATIVE,  # no price_id: the native asset is unpriced
        "price_chain": "optimism",
    },
}


class Built:
    def __init__(self, reader: PriceReader, llama: Llama, metrics: Metrics) -> None:
        self.reader, self.llama, self.metrics = reader, llama, metrics

    def asked(self) -> list[str]:
        """Every coin id DefiLlama was asked for."""
        return [c for p in self.llama.paths for c in p.removeprefix("/prices/current/").split(",")]


@pytest.fixture
async def http_and_llama() -> AsyncIterator[tuple[Pools, Llama]]:
    llama = Llama(
        {
            "coingecko:ethereum": entry("3000"),
            f"eth:{DAI.lower()}": entry("1.0001"),
            f"optimism:{DAI.lower()}": entry("0.9999"),
        }
    )
    pools = Pools(httpx.MockTransport(llama.handler))
    yield pools, llama
    await pools.aclose()


def build(tmp_path: Path, http: Pools, llama: Llama, prices: dict[str, Any]) -> Built:
    settings = parse_settings(
        {"chains": CHAINS, "prices": {"defillama_url": "https://coins.example", **prices}},
        base_dir=tmp_path,
        environ={},
    )
    metrics = Metrics()
    cache = MemoryCache(1000)
    registry = build_registry(settings, http, new_store(), metrics)
    return Built(build_price_reader(settings, registry, http, cache, metrics), llama, metrics)


def usd(outcome: Quote | PriceUnavailable | None) -> Decimal | None:
    return outcome.usd if isinstance(outcome, Quote) else None


async def test_coin_ids_follow_the_chain_config(
    tmp_path: Path, http_and_llama: tuple[Pools, Llama]
) -> None:
    built = build(tmp_path, *http_and_llama, {"sources": ["defillama"]})
    keys = [
        PriceKey("eth", NATIVE_TOKEN),  # native: its price_id
        PriceKey("eth", TokenRef(DAI)),  # a token: <chain id>:<address>
        PriceKey("op", TokenRef(DAI)),  # price_chain renames the chain for DefiLlama
        PriceKey("op", NATIVE_TOKEN),  # no price_id: not asked
        PriceKey("eth", TokenRef(DAI, 7)),  # one id of an ERC-1155: no market price
    ]
    outcomes = await built.reader.prices(keys)
    assert [usd(o) for o in outcomes] == [
        Decimal(3000),
        Decimal("1.0001"),
        Decimal("0.9999"),
        None,
        None,
    ]
    dai = DAI.lower()  # DefiLlama's ids are case-insensitive; the source asks in lower case
    assert sorted(built.asked()) == ["coingecko:ethereum", f"eth:{dai}", f"optimism:{dai}"]
    assert built.metrics.upstream_requests.total(chain="defillama") == 1


async def test_static_prices_are_keyed_by_the_canonical_token_and_tried_first(
    tmp_path: Path, http_and_llama: tuple[Pools, Llama]
) -> None:
    built = build(
        tmp_path,
        *http_and_llama,
        {
            "sources": ["static", "defillama"],
            "static": {"eth:NATIVE": "2999.5", f"eth:{USDC.lower()}": "1"},
        },
    )
    eth, usdc, dai = await built.reader.prices(
        [
            PriceKey("eth", NATIVE_TOKEN),
            PriceKey("eth", TokenRef(USDC)),
            PriceKey("eth", TokenRef(DAI)),
        ]
    )
    assert isinstance(eth, Quote) and (eth.usd, eth.source) == (Decimal("2999.5"), "static")
    assert isinstance(usdc, Quote) and (usdc.usd, usdc.source) == (Decimal(1), "static")
    assert isinstance(dai, Quote) and dai.source == "defillama"
    assert built.asked() == [f"eth:{DAI.lower()}"]  # only what static left unpriced


async def test_no_sources_means_no_prices(
    tmp_path: Path, http_and_llama: tuple[Pools, Llama]
) -> None:
    built = build(tmp_path, *http_and_llama, {})
    assert not built.reader.enabled
    assert await built.reader.prices([PriceKey("eth", NATIVE_TOKEN)]) == [None]
    assert built.asked() == []


@pytest.mark.parametrize(
    ("entry_key", "message"),
    [
        ("solana:native", "[prices.static] solana:native: unknown chain 'solana'"),
        ("eth:USDC", "[prices.static] eth:USDC: 'USDC' is not an EVM address"),
    ],
)
async def test_a_static_price_for_something_unknown_is_a_config_error(
    tmp_path: Path,
    http_and_llama: tuple[Pools, Llama],
    entry_key: str,
    message: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        build(tmp_path, *http_and_llama, {"sources": ["static"], "static": {entry_key: "1"}})
    assert str(info.value).startswith(message)
