"""Token lists (tokenlists.org JSON): the shipped lists load; a bad entry stops start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chains.evm.addresses import normalize_evm_token
from chains.starknet.addresses import normalize_address
from chains.tokens.shipped import merge, shipped_lists
from chains.tokens.tokenlist import fetch_list, load_token_list, logo_url
from core.models import TokenRef, TokenStandard
from settings import ConfigError, load_settings
from tests.fakes.http_server import SECRET, Reply, ScriptedServer, as_json

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # EIP-55 checksummed (etherscan)
USDC_BAD_CHECKSUM = "0xa0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"  # one letter lower-cased


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def chain_with(**lines: str) -> str:
    """The `testnet` chain (chain_id 5) with some keys added (value given as TOML source)."""
    keys: dict[str, str] = {
        "chain_id": "5",
        "rpc_urls": '["https://rpc.example.com"]',
        "native": '{ symbol = "ETH", name = "Ether", decimals = 18 }',
    }
    keys.update(lines)
    body = "\n".join(f"{k} = {v}" for k, v in keys.items() if v)
    return f"[chains.testnet]\n{body}\n"


def test_the_shipped_starknet_list_loads_entry_for_entry() -> None:
    chain = load_settings(environ={}).chains["starknet"]
    tokens = load_token_list(chain, lambda text: TokenRef(normalize_address(text)))
    assert chain.token_list is not None
    document = json.loads(chain.token_list.read_text(encoding="utf-8"))
    listed = {int(t["address"], 16): t for t in document["tokens"]}
    assert {int(t.contract, 16) for t in tokens} == set(listed)
    for token, meta in tokens.items():
        entry = listed[int(token.contract, 16)]
        assert (meta.chain, meta.token, meta.standard) == ("starknet", token, TokenStandard.ERC20)
        assert (meta.symbol, meta.name, meta.decimals) == (
            entry["symbol"],
            entry["name"],
            entry["decimals"],
        )


def test_the_shipped_lists_give_ethereum_usdc_six_decimals_and_a_logo() -> None:
    chain = load_settings(environ={}).chains["ethereum"]
    merged = merge(chain, shipped_lists(), normalize_evm_token, "https://ipfs.io/ipfs/")
    usdc = merged.trusted[TokenRef(USDC)]
    assert (usdc.symbol, usdc.decimals) == ("USDC", 6)
    assert usdc.logo is not None and usdc.logo.startswith("https://")


def test_an_ipfs_logo_is_served_through_the_gateway_and_a_data_uri_is_dropped() -> None:
    assert logo_url("ipfs://QmX/logo.png", "https://gw.example/ipfs/") == (
        "https://gw.example/ipfs/QmX/logo.png"
    )
    assert logo_url("ipfs://ipfs/QmX", "https://gw.example/ipfs/") == "https://gw.example/ipfs/QmX"
    assert logo_url("data:image/png;base64,AAAA", "https://gw.example/ipfs/") is None
    assert logo_url("logo.png", "https://gw.example/ipfs/") is None


def token_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "chainId": 5,
        "address": USDC,
        "name": "USD Coin",
        "symbol": "USDC",
        "decimals": 6,
    }
    entry.update(overrides)
    return entry


def token_list_error(tmp_path: Path, entries: list[Any]) -> tuple[str, Path]:
    list_path = tmp_path / "list.json"
    list_path.write_text(json.dumps({"tokens": entries}), encoding="utf-8")
    chain = load_settings(write(tmp_path, chain_with(tokens='"list.json"')), {}).chains["testnet"]
    assert chain.token_list == list_path.resolve()
    with pytest.raises(ConfigError) as info:
        load_token_list(chain, normalize_evm_token)
    return str(info.value), list_path.resolve()


@pytest.mark.parametrize("decimals", [256, -1, "6", 6.0, True, None])
def test_token_list_entry_with_bad_decimals(tmp_path: Path, decimals: Any) -> None:
    ok = token_entry(address="0x6B175474E89094C44Da98b954EedeAC495271d0F")
    message, path = token_list_error(tmp_path, [ok, token_entry(decimals=decimals)])
    assert message == f"{path} tokens[1]: decimals must be an integer 0..255"


def test_token_list_entry_with_bad_checksum(tmp_path: Path) -> None:
    message, path = token_list_error(tmp_path, [token_entry(address=USDC_BAD_CHECKSUM)])
    assert message == (
        f"{path} tokens[0]: {USDC_BAD_CHECKSUM!r} has an invalid EIP-55 checksum "
        f"(did you mean {USDC}?)"
    )


def test_token_list_entry_that_is_not_an_address(tmp_path: Path) -> None:
    message, path = token_list_error(tmp_path, [token_entry(address="USDC")])
    assert message.startswith(f"{path} tokens[0]: 'USDC' is not an EVM address")


def test_token_list_entries_of_other_chains_are_skipped(tmp_path: Path) -> None:
    list_path = tmp_path / "list.json"
    entries = [token_entry(chainId=1, decimals="broken"), token_entry()]
    list_path.write_text(json.dumps({"tokens": entries}), encoding="utf-8")
    chain = load_settings(write(tmp_path, chain_with(tokens='"list.json"')), {}).chains["testnet"]
    tokens = load_token_list(chain, normalize_evm_token)
    assert list(tokens) == [TokenRef(USDC)]
    assert tokens[TokenRef(USDC)].decimals == 6


def test_token_list_needs_a_tokens_array(tmp_path: Path) -> None:
    list_path = tmp_path / "list.json"
    list_path.write_text(json.dumps({"name": "x"}), encoding="utf-8")
    chain = load_settings(write(tmp_path, chain_with(tokens='"list.json"')), {}).chains["testnet"]
    with pytest.raises(ConfigError) as info:
        load_token_list(chain, normalize_evm_token)
    assert str(info.value) == f"{list_path.resolve()}: a token list needs a 'tokens' array"


@pytest.fixture
def list_server() -> Iterator[ScriptedServer]:
    entry = token_entry()
    server = ScriptedServer(
        [as_json({"tokens": [entry]}), Reply(status=404), Reply(body=b"x" * 4096)]
    )
    server.start()
    yield server
    server.stop()


def test_an_operator_list_at_a_url_is_fetched_and_its_key_never_shown(
    tmp_path: Path, list_server: ScriptedServer
) -> None:
    url = list_server.url()
    chain = load_settings(write(tmp_path, chain_with(tokens=f'"{url}"')), {}).chains["testnet"]
    assert chain.token_list is None and chain.token_list_url is not None
    assert SECRET not in repr(chain)
    tokens = load_token_list(chain, normalize_evm_token)
    assert [meta.symbol for meta in tokens.values()] == ["USDC"]
    with pytest.raises(ConfigError) as missing:
        load_token_list(chain, normalize_evm_token)  # the server's second answer: 404
    assert "HTTP 404" in str(missing.value) and SECRET not in str(missing.value)
    with pytest.raises(ConfigError, match="over 1024 bytes"):
        fetch_list(chain.token_list_url, limit=1024)
    with pytest.raises(ConfigError, match="both name a list"):
        load_settings(write(tmp_path, chain_with(tokens='"a.json"', tokens_url=f'"{url}"')), {})
