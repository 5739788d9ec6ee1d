"""The chain registry: lookup by id, and what build_registry makes of each family's config."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chains.bitcoin.provider import BitcoinProvider
from chains.evm.provider import EvmProvider
from chains.registry import ChainRegistry, build_registry
from chains.starknet.provider import ETH_ADDRESS, STRK_ADDRESS, StarknetProvider
from core.errors import UnsupportedChain
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenRef, TokenStandard
from core.pools import Pools
from settings import ConfigError, Settings, parse_settings
from tests.fakes import starknet as stark
from tests.fakes.service import FakeProvider, make_chain, new_store

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
NATIVE = {"symbol": "ETH", "name": "Ether", "decimals": 18}


def registry_of(*ids: str) -> ChainRegistry:
    return ChainRegistry({i: make_chain(FakeProvider(i)) for i in ids})


def test_lookup_is_case_and_whitespace_insensitive() -> None:
    registry = registry_of("ethereum", "base")
    assert registry.get("ethereum").id == "ethereum"
    assert registry.get(" Base ").id == "base"
    assert registry.get("ETHEREUM") is registry.get("ethereum")


def test_an_unknown_chain_is_unsupported_and_lists_the_known_ids() -> None:
    registry = registry_of("optimism", "base", "ethereum")
    with pytest.raises(UnsupportedChain) as info:
        registry.get("solana")
    assert info.value.message == (
        "unknown chain 'solana'; this service knows: base, ethereum, optimism"
    )
    assert info.value.extensions == {
        "code": "UNSUPPORTED_CHAIN",
        "chain": "solana",
        "retryable": False,
    }


def test_chains_iterate_in_configuration_order() -> None:
    registry = registry_of("ethereum", "base", "arbitrum")
    assert [c.id for c in registry] == ["ethereum", "base", "arbitrum"]
    assert len(registry) == 3


def settings(tmp_path: Path, **chains: dict[str, Any]) -> Settings:
    return parse_settings({"chains": chains}, base_dir=tmp_path, environ={})


@pytest.fixture
async def http() -> AsyncIterator[Pools]:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"building the registry must not call {request.url}")

    pools = Pools(httpx.MockTransport(refuse))
    yield pools
    await pools.aclose()


async def test_each_family_gets_its_provider(tmp_path: Path, http: Pools) -> None:
    config = settings(
        tmp_path,
        eth={"chain_id": 1, "rpc_urls": ["https://eth.example"], "native": NATIVE},
        starknet={"family": "starknet", "rpc_urls": ["https://sn.example"], "native": NATIVE},
        bitcoin={
            "family": "bitcoin",
            "rpc_urls": ["https://esplora.example/api"],
            "native": {"symbol": "BTC", "name": "Bitcoin", "decimals": 8},
        },
    )
    registry = build_registry(config, http, new_store(), Metrics())
    providers = {c.id: type(c.provider) for c in registry}
    assert providers == {
        "eth": EvmProvider,
        "starknet": StarknetProvider,
        "bitcoin": BitcoinProvider,
    }
    bitcoin = registry.get("bitcoin")
    assert bitcoin.native.symbol == "BTC" and bitcoin.native.decimals == 8
    assert bitcoin.listed == {NATIVE_TOKEN: bitcoin.native}


async def test_the_native_asset_and_the_token_list_are_listed(tmp_path: Path, http: Pools) -> None:
    entry = {"chainId": 1, "address": USDC.lower(), "name": "USD Coin", "symbol": "USDC"}
    (tmp_path / "list.json").write_text(
        json.dumps({"tokens": [{**entry, "decimals": 6}]}), encoding="utf-8"
    )
    config = settings(
        tmp_path,
        eth={
            "chain_id": 1,
            "rpc_urls": ["https://eth.example"],
            "native": NATIVE,
            "tokens": "list.json",
        },
    )
    chain = build_registry(config, http, new_store(), Metrics()).get("eth")
    assert chain.own == (NATIVE_TOKEN, TokenRef(USDC))  # canonical (checksummed)
    assert chain.native.standard is TokenStandard.NATIVE
    usdc = chain.listed[TokenRef(USDC)]
    assert chain.reader.listed_token(TokenRef(USDC)) == usdc
    assert (usdc.symbol, usdc.name, usdc.decimals) == ("USDC", "USD Coin", 6)  # ours wins
    assert usdc.logo is not None and usdc.logo.startswith("https://")  # a shipped list's
    assert len(chain.list_tokens) > 300  # chain id 1: the shipped lists' Ethereum tokens


async def test_starknet_reads_its_native_balance_from_strk_unless_configured(
    tmp_path: Path,
) -> None:
    sn = {"family": "starknet", "rpc_urls": [stark.URL], "native": NATIVE}
    eth_native = {**sn, "native": {**NATIVE, "contract": ETH_ADDRESS}}
    node = stark.mainnet()
    for table, expected in ((sn, 7 * 10**18), (eth_native, 3 * 10**17)):
        pools = Pools(httpx.MockTransport(node.handler))
        try:
            registry = build_registry(settings(tmp_path, sn=table), pools, new_store(), Metrics())
            key = BalanceKey("sn", stark.ALICE, NATIVE_TOKEN)
            (reading,) = (await registry.get("sn").provider.read([key], [])).balances
            assert isinstance(reading, BalanceReading) and reading.raw_amount == expected
        finally:
            await pools.aclose()
    called = {c["params"][0]["contract_address"] for b in node.batches for c in b[1:]}
    assert {int(a, 16) for a in called} == {int(STRK_ADDRESS, 16), int(ETH_ADDRESS, 16)}


async def test_a_bad_starknet_native_contract_is_a_config_error(
    tmp_path: Path, http: Pools
) -> None:
    bad = {
        "family": "starknet",
        "rpc_urls": ["https://sn.example"],
        "native": {**NATIVE, "contract": "0xnothex"},
    }
    with pytest.raises(ConfigError, match=r"^\[chains.sn\] native.contract: '0xnothex' is not"):
        build_registry(settings(tmp_path, sn=bad), http, new_store(), Metrics())


MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


async def test_the_multicall3_address_is_checksummed_by_the_registry(
    tmp_path: Path, http: Pools
) -> None:
    evm = {"chain_id": 1, "rpc_urls": ["https://eth.example"], "native": NATIVE}
    lower = build_registry(
        settings(tmp_path, eth={**evm, "multicall3": MULTICALL3.lower()}),
        http,
        new_store(),
        Metrics(),
    )
    assert lower.get("eth").config.multicall3 == MULTICALL3
    wrong = "0xCA11bde05977b3631167028862bE2a173976CA11"
    with pytest.raises(ConfigError) as info:
        build_registry(
            settings(tmp_path, eth={**evm, "multicall3": wrong}), http, new_store(), Metrics()
        )
    assert str(info.value) == (
        f"[chains.eth]: multicall3 {wrong!r} has an invalid EIP-55 checksum "
        f"(did you mean {MULTICALL3}?)"
    )
