"""The configuration's shape: defaults defined once, strict types, family rules, frozen values.

These validate the models directly; tests/settings/test_loader.py checks the messages a TOML
file gets through the loader.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from core.models import ChainFamily
from settings import (
    MULTICALL3_ADDRESS,
    CacheConfig,
    LimitsConfig,
    PricesConfig,
    Settings,
    SpamConfig,
)

NATIVE = {"symbol": "ETH", "name": "Ether", "decimals": 18}


def chain(**table: Any) -> dict[str, Any]:
    return {"rpc_urls": ["https://rpc.example"], "native": NATIVE, **table}


def settings(context: dict[str, Any] | None = None, **chains: dict[str, Any]) -> Settings:
    return Settings.model_validate({"chains": chains}, context=context)


def test_a_chain_takes_its_id_from_the_table_name_and_a_name_from_the_id() -> None:
    config = settings(**{"base-sepolia": chain()}).chains["base-sepolia"]
    assert (config.id, config.name) == ("base-sepolia", "Base-Sepolia")
    assert config.family is ChainFamily.EVM and config.multicall3 == MULTICALL3_ADDRESS
    assert (config.batch_size, config.timeout, config.cooldown) == (500, 5.0, 30.0)
    assert config.network == "mainnet" and config.price_chain is None


def test_the_token_list_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    relative = settings({"base_dir": tmp_path}, eth=chain(tokens="lists/eth.json"))
    assert relative.chains["eth"].token_list == (tmp_path / "lists" / "eth.json").resolve()
    absolute = settings({"base_dir": tmp_path}, eth=chain(tokens="/etc/eth.json"))
    assert absolute.chains["eth"].token_list == Path("/etc/eth.json")
    assert settings(eth=chain()).chains["eth"].token_list is None


def test_an_empty_tokens_path_means_no_token_list(tmp_path: Path) -> None:
    config = settings({"base_dir": tmp_path}, eth=chain(tokens=""))
    assert config.chains["eth"].token_list is None


@pytest.mark.parametrize("family", ["starknet", "bitcoin"])
def test_only_evm_chains_have_multicall3(family: str) -> None:
    config = settings(x=chain(family=family, multicall3=MULTICALL3_ADDRESS)).chains["x"]
    assert config.multicall3 is None


def test_an_empty_multicall3_reads_without_it() -> None:
    assert settings(eth=chain(multicall3="")).chains["eth"].multicall3 is None


def test_the_network_only_applies_to_bitcoin() -> None:
    assert settings(btc=chain(family="bitcoin", network="testnet")).chains["btc"].network == (
        "testnet"
    )
    with pytest.raises(ValidationError, match="network only applies to bitcoin chains"):
        settings(eth=chain(network="testnet"))


@pytest.mark.parametrize(
    ("key", "value"),
    [("timeout", "10"), ("batch_size", 100.0), ("chain_id", True), ("timeout", True)],
)
def test_types_are_strict(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        settings(eth=chain(**{key: value}))


def test_values_are_frozen() -> None:
    config = settings(eth=chain()).chains["eth"]
    with pytest.raises(ValidationError):
        config.timeout = 1.0  # type: ignore[misc]  # the point: it is read-only


def test_cache_and_limit_defaults() -> None:
    cache, limits = CacheConfig(), LimitsConfig()
    assert (cache.default_max_age, cache.retention, cache.metadata_ttl) == (300, 86_400, 604_800)
    assert cache.redis_url is None
    assert (limits.max_pairs, limits.max_tokens, limits.max_lookups) == (100, 1_000, 5_000)
    assert CacheConfig.model_validate({"redis_url": ""}).redis_url is None


def test_shared_reads_are_on_with_a_short_lease_and_a_lease_must_be_short() -> None:
    cache = CacheConfig()
    assert (cache.shared_reads, cache.shared_read_lease) == (True, 3.0)
    off = CacheConfig.model_validate({"shared_reads": False, "shared_read_lease": 0.5})
    assert (off.shared_reads, off.shared_read_lease) == (False, 0.5)
    for lease in (0, -1, 61, "3"):
        with pytest.raises(ValidationError):
            CacheConfig.model_validate({"shared_read_lease": lease})
    with pytest.raises(ValidationError):
        CacheConfig.model_validate({"shared_reads": "yes"})


def test_static_prices_are_chain_token_pairs_with_exact_decimals() -> None:
    prices = PricesConfig.model_validate(
        {"sources": ["static"], "static": {"eth:native": "3000.25", "eth:0xabc:7": "0.1"}}
    )
    assert prices.static == {
        ("eth", "native"): Decimal("3000.25"),
        ("eth", "0xabc:7"): Decimal("0.1"),
    }
    assert prices.sources == ("static",)


@pytest.mark.parametrize(
    "static",
    [
        {"eth:native": 3000.25},  # a float: never
        {"eth:native": "NaN"},
        {"eth:native": "Infinity"},
        {"eth:native": "-1"},
        {"eth:native": "three"},
        {"native": "1"},
        {":native": "1"},
        {"eth:": "1"},
    ],
)
def test_a_malformed_static_price_is_refused(static: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="needs the form"):
        PricesConfig.model_validate({"static": static})


def test_the_static_source_needs_prices_and_sources_are_known_names() -> None:
    with pytest.raises(ValidationError, match=r"\[prices.static\] is empty"):
        PricesConfig.model_validate({"sources": ["static"]})
    with pytest.raises(ValidationError):
        PricesConfig.model_validate({"sources": ["coingecko"]})


def test_the_deny_list_is_chain_and_token_pairs() -> None:
    spam = SpamConfig.model_validate({"deny": ["eth:0xabc", "eth:0xdef:7"]})
    assert spam.deny == frozenset({("eth", "0xabc"), ("eth", "0xdef:7")})
    assert spam.heuristic is True
    for bad in (["0xabc"], ["eth:"], [7], "eth:0xabc"):
        with pytest.raises(ValidationError):
            SpamConfig.model_validate({"deny": bad})
