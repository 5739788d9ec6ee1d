"""Secret: URLs that may hold keys never show them, only a scheme-and-host label."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import CacheConfig, Secret, load_settings

CHAIN = """
[chains.testnet]
chain_id = 5
rpc_urls = ["https://rpc.example.com"]
native = { symbol = "ETH", name = "Ether", decimals = 18 }
"""
KEY = "SECRETKEY123"
KEYED_URL = f"https://eth-mainnet.example.com/v2/{KEY}?apikey={KEY}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_secret_never_shows_its_value() -> None:
    secret = Secret(KEYED_URL)
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", format(secret, ""), [secret]]
    for text in map(str, shown):
        assert KEY not in text, text
    assert secret.value == KEYED_URL


def test_secret_label_is_scheme_and_host_only() -> None:
    assert Secret(KEYED_URL).label == "https://eth-mainnet.example.com/…"
    with_credentials = Secret(f"http://user:{KEY}@node.example.com:8545/path?key={KEY}")
    assert with_credentials.label == "http://node.example.com/…"
    assert Secret("not a url").label == "…"


def test_chain_config_repr_hides_rpc_keys(tmp_path: Path) -> None:
    environ = {"BALANCE_GRAPH_RPC_URLS_TESTNET": f"{KEYED_URL},https://other.example/{KEY}"}
    settings = load_settings(write(tmp_path, CHAIN), environ)
    chain = settings.chains["testnet"]
    assert [s.value for s in chain.rpc_urls] == [KEYED_URL, f"https://other.example/{KEY}"]
    for text in (repr(chain), str(chain), f"{chain}", repr(settings), repr(chain.rpc_urls)):
        assert KEY not in text
    assert "eth-mainnet.example.com" in repr(chain)


def test_a_secret_is_read_from_config_trimmed_and_only_from_a_string() -> None:
    config = CacheConfig.model_validate({"redis_url": f"  redis://:{KEY}@cache:6379/0 \n"})
    assert config.redis_url is not None
    assert config.redis_url.value == f"redis://:{KEY}@cache:6379/0"
    with pytest.raises(ValidationError, match="must be a string"):
        CacheConfig.model_validate({"redis_url": 6379})


def test_scheme_and_label_of_unusual_urls() -> None:
    assert Secret("unix:///run/redis.sock").label == "unix://?/…"  # no host to show
    assert Secret("unix:///run/redis.sock").scheme == "unix"
    assert Secret("HTTPS://Node.Example.com/KEY").label == "https://node.example.com/…"
    assert Secret("").label == "…" and Secret("").scheme == ""


def test_secrets_compare_by_value_without_printing_it() -> None:
    assert Secret(KEYED_URL) == Secret(KEYED_URL) != Secret(KEYED_URL + "x")
    assert KEY not in repr({Secret(KEYED_URL): 1})
