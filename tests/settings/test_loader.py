"""Configuration: the shipped file loads; every bad input fails with a precise message."""

from __future__ import annotations

import errno
import os
import tomllib
from pathlib import Path

import pytest

from chains.evm.addresses import normalize_evm_token
from chains.tokens.tokenlist import load_token_list
from core.models import ChainFamily
from settings import (
    DEFAULT_CONFIG,
    MULTICALL3_ADDRESS,
    ConfigError,
    load_settings,
    unknown_variables,
)

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # EIP-55 checksummed (etherscan)
USDC_BAD_CHECKSUM = "0xa0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # one letter lower-cased

CHAIN = """
[chains.testnet]
chain_id = 5
rpc_urls = ["https://rpc.example.com"]
native = { symbol = "ETH", name = "Ether", decimals = 18 }
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    """The error's text after the file name it must start with."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ or {})
    prefix = f"{path.resolve()}: "
    assert str(info.value).startswith(prefix), str(info.value)
    return str(info.value).removeprefix(prefix)


def chain_with(**lines: str) -> str:
    """The `testnet` chain with some keys replaced (value given as TOML source)."""
    keys: dict[str, str] = {
        "chain_id": "5",
        "rpc_urls": '["https://rpc.example.com"]',
        "native": '{ symbol = "ETH", name = "Ether", decimals = 18 }',
    }
    keys.update(lines)
    body = "\n".join(f"{k} = {v}" for k, v in keys.items() if v)
    return f"[chains.testnet]\n{body}\n"


# --- the shipped configuration ----------------------------------------------------------


def test_shipped_config_covers_seven_chains_of_three_families() -> None:
    settings = load_settings(environ={})
    raw = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))

    assert list(settings.chains) == [
        "ethereum",
        "base",
        "arbitrum",
        "optimism",
        "polygon",
        "starknet",
        "bitcoin",
    ]
    assert settings.source == DEFAULT_CONFIG.resolve()
    assert settings.cache.redis_url is None
    assert settings.prices.sources == ("defillama",)
    for chain_id, chain in settings.chains.items():
        table = raw["chains"][chain_id]
        assert chain.id == chain_id
        assert chain.family.value == table["family"]
        assert [s.value for s in chain.rpc_urls] == table["rpc_urls"]
        assert chain.native.price_id is not None
        if chain.family is ChainFamily.EVM:
            assert chain.chain_id == table["chain_id"]
            assert chain.multicall3 == MULTICALL3_ADDRESS
            assert chain.token_list is None  # the shipped npm lists cover them
            assert chain.discovery == ("logs",) and chain.discovery_from_block < 0
    assert settings.chains["ethereum"].chain_id == 1
    assert settings.chains["base"].chain_id == 8453
    assert settings.chains["starknet"].native.contract is not None
    assert settings.chains["bitcoin"].native.decimals == 8


def test_minimal_chain_gets_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CHAIN), {})
    chain = settings.chains["testnet"]
    assert chain.name == "Testnet"
    assert chain.family is ChainFamily.EVM
    assert chain.chain_id == 5
    assert chain.token_list is None
    assert chain.multicall3 == MULTICALL3_ADDRESS
    assert chain.batch_size == 500
    assert chain.timeout == 5.0
    assert load_token_list(chain, normalize_evm_token) == {}


def test_non_evm_chain_has_no_multicall(tmp_path: Path) -> None:
    chain = load_settings(write(tmp_path, chain_with(family='"bitcoin"')), {}).chains["testnet"]
    assert chain.family is ChainFamily.BITCOIN
    assert chain.multicall3 is None


# --- errors ------------------------------------------------------------------------------


def test_missing_rpc_urls(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(rpc_urls=""))
    assert message == "[chains.testnet]: missing required key 'rpc_urls'"


@pytest.mark.parametrize(
    "urls",
    [
        '["ws://node.example.com"]',
        '["https://ok.example.com", "ftp://node.example.com"]',
        '["node.example.com:8545"]',
        "[]",
        '[""]',
    ],
)
def test_rpc_urls_must_be_http(tmp_path: Path, urls: str) -> None:
    message = config_error(tmp_path, chain_with(rpc_urls=urls))
    assert message == "[chains.testnet]: rpc_urls must be a non-empty list of http(s) URLs"


def test_rpc_urls_must_be_strings(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(rpc_urls='["https://a.example", 8545]'))
    assert message == "[chains.testnet]: rpc_urls[1] must be a string"


def test_unknown_keys_are_refused_not_ignored(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(rpc_url='["https://a.example"]'))
    assert message == "[chains.testnet]: unknown key 'rpc_url'"
    assert config_error(tmp_path, CHAIN + "[cache]\nretension = 60\n") == (
        "[cache]: unknown key 'retension'"
    )


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(batch_size="1", timeout='"10"'))
    assert message.splitlines() == [
        "[chains.testnet]: batch_size must be at least 2",
        "[chains.testnet]: 'timeout' has the wrong type (str)",
    ]


def test_rpc_urls_must_be_a_list(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(rpc_urls='"https://rpc.example.com"'))
    assert message == "[chains.testnet]: 'rpc_urls' has the wrong type (str)"


@pytest.mark.parametrize("family", ['"solana"', '"EVM"', "1"])
def test_unknown_family(tmp_path: Path, family: str) -> None:
    message = config_error(tmp_path, chain_with(family=family))
    assert message == "[chains.testnet]: family must be one of 'evm', 'starknet' or 'bitcoin'"
    assert "evm" in message


@pytest.mark.parametrize("chain_id", ["Ethereum", "1eth", "base_sepolia", "-eth", "a" * 41, ""])
def test_chain_id_must_be_a_lower_case_slug(tmp_path: Path, chain_id: str) -> None:
    text = CHAIN.replace("[chains.testnet]", f'[chains."{chain_id}"]')
    message = config_error(tmp_path, text)
    assert message == (
        f"[chains.{chain_id}]: chain ids are lower-case slugs like 'ethereum' or 'base-sepolia'"
    )


def test_no_chains(tmp_path: Path) -> None:
    assert config_error(tmp_path, "[cache]\nretention = 60\n") == (
        "config defines no [chains.<id>] table"
    )


@pytest.mark.parametrize(
    ("key", "value", "where", "type_name"),
    [
        ("chain_id", '"1"', "[chains.testnet]", "str"),
        ("chain_id", "true", "[chains.testnet]", "bool"),
        ("chain_id", "1.0", "[chains.testnet]", "float"),
        ("batch_size", '"100"', "[chains.testnet]", "str"),
        ("timeout", '"10"', "[chains.testnet]", "str"),
        ("name", "42", "[chains.testnet]", "int"),
        ("multicall3", "false", "[chains.testnet]", "bool"),
    ],
)
def test_wrong_types_name_key_and_type(
    tmp_path: Path, key: str, value: str, where: str, type_name: str
) -> None:
    message = config_error(tmp_path, chain_with(**{key: value}))
    assert message == f"{where}: {key!r} has the wrong type ({type_name})"


def test_wrong_native_decimals_type(tmp_path: Path) -> None:
    native = '{ symbol = "ETH", name = "Ether", decimals = "18" }'
    message = config_error(tmp_path, chain_with(native=native))
    assert message == "[chains.testnet.native]: 'decimals' has the wrong type (str)"


def test_missing_native_symbol(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(native='{ name = "Ether", decimals = 18 }'))
    assert message == "[chains.testnet.native]: missing required key 'symbol'"


def test_native_must_be_a_table(tmp_path: Path) -> None:
    message = config_error(tmp_path, chain_with(native='"ETH"'))
    assert message == "[chains.testnet.native] must be a table"


@pytest.mark.parametrize(("size", "bound"), [("1", "at least 2"), ("5001", "at most 5000")])
def test_batch_size_bounds(tmp_path: Path, size: str, bound: str) -> None:
    message = config_error(tmp_path, chain_with(batch_size=size))
    assert message == f"[chains.testnet]: batch_size must be {bound}"


def test_wrong_type_in_cache_and_limits(tmp_path: Path) -> None:
    assert config_error(tmp_path, CHAIN + '[cache]\nretention = "1d"\n') == (
        "[cache]: 'retention' has the wrong type (str)"
    )
    assert config_error(tmp_path, CHAIN + "[limits]\nmax_pairs = 0\n") == (
        "[limits]: max_pairs must be greater than 0"
    )


NOT_AN_ADDRESS = "is not an EVM address (0x followed by 40 hex digits)"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("0x1234", NOT_AN_ADDRESS),
        ("cA11bde05977b3631167028862bE2a173976CA11", NOT_AN_ADDRESS),
        ("0xcA11bde05977b3631167028862bE2a173976CA1G", NOT_AN_ADDRESS),
    ],
)
def test_invalid_multicall3_address(tmp_path: Path, address: str, problem: str) -> None:
    message = config_error(tmp_path, chain_with(multicall3=f'"{address}"'))
    assert message.startswith(f"[chains.testnet]: multicall3 {address!r} ")
    assert message.endswith(problem)


def test_multicall3_keeps_the_address_as_written(tmp_path: Path) -> None:
    """The checksum is the chain registry's to judge (tests/chains/test_registry.py)."""
    lower = f'"{MULTICALL3_ADDRESS.lower()}"'
    chain = load_settings(write(tmp_path, chain_with(multicall3=lower)), {}).chains["testnet"]
    assert chain.multicall3 == MULTICALL3_ADDRESS.lower()


def test_invalid_toml(tmp_path: Path) -> None:
    path = write(tmp_path, CHAIN + "[cache\nretention = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert str(info.value).startswith(f"{path.resolve()}: invalid TOML: ")
    assert isinstance(info.value.__cause__, tomllib.TOMLDecodeError)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert str(info.value) == f"cannot read config {path.resolve()}: {os.strerror(errno.ENOENT)}"


# --- environment overrides -----------------------------------------------------------------


def two_chains() -> str:
    return (
        CHAIN
        + """
[chains.base-sepolia]
chain_id = 84532
rpc_urls = ["https://sepolia.base.org"]
native = { symbol = "ETH", name = "Ether", decimals = 18 }
"""
    )


def test_env_replaces_rpc_urls_with_dash_as_underscore(tmp_path: Path) -> None:
    environ = {
        "BALANCE_GRAPH_RPC_URLS_BASE_SEPOLIA": " https://a.example/v2/K1 ,,https://b.example/K2, ",
    }
    settings = load_settings(write(tmp_path, two_chains()), environ)
    assert [s.value for s in settings.chains["base-sepolia"].rpc_urls] == [
        "https://a.example/v2/K1",
        "https://b.example/K2",
    ]
    assert [s.value for s in settings.chains["testnet"].rpc_urls] == ["https://rpc.example.com"]


def test_env_rpc_urls_stand_in_for_missing_file_urls(tmp_path: Path) -> None:
    environ = {"BALANCE_GRAPH_RPC_URLS_TESTNET": "https://env.example/key"}
    settings = load_settings(write(tmp_path, chain_with(rpc_urls="")), environ)
    assert [s.value for s in settings.chains["testnet"].rpc_urls] == ["https://env.example/key"]


def test_env_sets_the_discovery_indexers_secrets(tmp_path: Path) -> None:
    text = chain_with(
        discovery='["etherscan", "alchemy"]', etherscan_url='"https://etherscan.example/api"'
    )
    environ = {
        "BALANCE_GRAPH_ETHERSCAN_KEY_TESTNET": "SECRET1",
        "BALANCE_GRAPH_ALCHEMY_URL_TESTNET": "https://eth-mainnet.example/v2/SECRET2",
    }
    chain = load_settings(write(tmp_path, text), environ).chains["testnet"]
    assert chain.etherscan_key is not None and chain.etherscan_key.value == "SECRET1"
    assert chain.alchemy_url is not None and "SECRET2" in chain.alchemy_url.value
    assert "SECRET" not in repr(chain)
    settings = load_settings(write(tmp_path, text), environ)
    assert unknown_variables(environ, settings) == []
    with pytest.raises(ConfigError, match="discovery: 'etherscan' needs etherscan_url"):
        load_settings(write(tmp_path, chain_with(discovery='["etherscan"]')), {})


def env_error(tmp_path: Path, text: str, environ: dict[str, str]) -> str:
    """The error's text: a bad value from the environment blames its variable, not the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ)
    assert str(path.resolve()) not in str(info.value), str(info.value)
    return str(info.value)


def test_env_rpc_urls_are_validated_and_blamed_on_the_variable(tmp_path: Path) -> None:
    environ = {"BALANCE_GRAPH_RPC_URLS_TESTNET": "wss://env.example/key"}
    message = env_error(tmp_path, CHAIN, environ)
    assert message == (
        "BALANCE_GRAPH_RPC_URLS_TESTNET (environment): "
        "[chains.testnet]: rpc_urls must be a non-empty list of http(s) URLs"
    )
    assert "key" not in message


def test_file_and_environment_problems_are_each_blamed_on_their_source(tmp_path: Path) -> None:
    path = write(tmp_path, chain_with(timeout="true"))
    with pytest.raises(ConfigError) as info:
        load_settings(path, {"BALANCE_GRAPH_DATA_DIR": "", "REDIS_URL": "http://cache"})
    assert str(info.value).splitlines() == [
        f"{path.resolve()}: [chains.testnet]: 'timeout' has the wrong type (bool)",
        f"REDIS_URL (environment): {REDIS_SCHEME}",
    ]


def test_a_misspelt_variable_is_named_with_the_nearest_valid_one(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, two_chains()), {})
    environ = {
        "BALANCE_GRAPH_RPC_URLS_TESTNT": "https://a.example",
        "BALANCE_GRAPH_RPC_URLS_BASE_SEPOLIA": "https://b.example",
        "BALANCE_GRAPH_RPC_URLS_SOLANA": "https://c.example",
        "BALANCE_GRAPH_DATADIR": "/data",
        "BALANCE_GRAPH_CONFIG": "x.toml",
        "BALANCE_GRAPH_READ_TIMEOUT": "10",
        "OTHER_RPC_URLS_TESTNT": "https://d.example",
    }
    assert unknown_variables(environ, settings, known=["BALANCE_GRAPH_READ_TIMEOUT"]) == [
        "BALANCE_GRAPH_DATADIR is not a setting and is ignored: "
        "did you mean BALANCE_GRAPH_DATA_DIR?",
        "BALANCE_GRAPH_RPC_URLS_SOLANA is not a setting and is ignored: "
        "the config has no such chain (base-sepolia, testnet)",
        "BALANCE_GRAPH_RPC_URLS_TESTNT is not a setting and is ignored: "
        "did you mean BALANCE_GRAPH_RPC_URLS_TESTNET?",
    ]


def test_env_is_ignored_unless_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BALANCE_GRAPH_RPC_URLS_TESTNET", "https://from-process-env.example")
    settings = load_settings(write(tmp_path, CHAIN))
    assert [s.value for s in settings.chains["testnet"].rpc_urls] == ["https://rpc.example.com"]


def test_redis_url_from_env(tmp_path: Path) -> None:
    url = "redis://:hunter2@cache.internal:6379/0"
    settings = load_settings(write(tmp_path, CHAIN), {"REDIS_URL": url})
    assert settings.cache.redis_url is not None
    assert settings.cache.redis_url.value == url
    assert settings.cache.redis_url.label == "redis://cache.internal/…"
    assert "hunter2" not in repr(settings)


def test_redis_url_env_overrides_file(tmp_path: Path) -> None:
    text = CHAIN + '[cache]\nredis_url = "redis://file-host/0"\n'
    settings = load_settings(write(tmp_path, text), {"REDIS_URL": "rediss://env-host/1"})
    assert settings.cache.redis_url is not None
    assert settings.cache.redis_url.value == "rediss://env-host/1"


REDIS_SCHEME = (
    "[cache]: redis_url must be a redis://, rediss:// or unix:// URL (REDIS_URL, if set, wins)"
)


@pytest.mark.parametrize("url", ["http://cache:6379", "cache:6379", "memcached://cache"])
def test_invalid_redis_url_scheme(tmp_path: Path, url: str) -> None:
    message = env_error(tmp_path, CHAIN, {"REDIS_URL": url})
    assert message == f"REDIS_URL (environment): {REDIS_SCHEME}"


def test_invalid_redis_url_in_file(tmp_path: Path) -> None:
    message = config_error(tmp_path, CHAIN + '[cache]\nredis_url = "https://cache"\n')
    assert message == REDIS_SCHEME


# --- regressions ---------------------------------------------------------------------------


def test_timeout_rejects_a_boolean_like_every_other_number(tmp_path: Path) -> None:
    # `chain_id = true` is rejected, but `_get` only refuses bools when `kind is int`, so
    # `timeout = true` (kind `(int, float)`) is accepted and becomes a 1-second timeout.
    message = config_error(tmp_path, chain_with(timeout="true"))
    assert message == "[chains.testnet]: 'timeout' has the wrong type (bool)"
