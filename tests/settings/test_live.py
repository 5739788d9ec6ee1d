"""Live balances' keys: each chain's head-following, `[live]`, and the per-caller limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import ConfigError, load_settings, unknown_variables
from tests.settings.test_loader import CHAIN, config_error, write

STARKNET = """
[chains.stark]
family = "starknet"
rpc_urls = ["https://starknet.example"]
native = { symbol = "STRK", name = "Starknet Token", decimals = 18 }
"""
BITCOIN = """
[chains.btc]
family = "bitcoin"
rpc_urls = ["https://esplora.example/api"]
native = { symbol = "BTC", name = "Bitcoin", decimals = 8 }
"""


def test_defaults_poll_each_family_at_its_own_pace(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CHAIN + STARKNET + BITCOIN), {})
    intervals = {c.id: c.head_interval(c.family.value) for c in settings.chains.values()}
    assert intervals == {"testnet": 2.0, "stark": 10.0, "btc": 30.0}
    chain = settings.chains["testnet"]
    assert chain.ws_urls == () and chain.full_refresh_blocks == 64
    assert (settings.live.max_pending, settings.live.max_sockets) == (1000, 1000)
    limits = settings.limits
    assert (limits.max_subscriptions_per_caller, limits.max_watched_lookups) == (20, 5000)
    assert settings.server.shutdown_timeout == 10


def test_keys_are_read_as_written(tmp_path: Path) -> None:
    text = CHAIN + (
        'ws_urls = ["wss://node.example/ws/KEY"]\npoll_interval = 0.5\nfull_refresh_blocks = 8\n'
        "[live]\nmax_pending = 7\nmax_sockets = 3\ninit_timeout = 1\nheartbeat = 2\n"
        "[limits]\nmax_subscriptions_per_caller = 4\nmax_watched_lookups = 40\n"
    )
    settings = load_settings(write(tmp_path, text), {})
    chain = settings.chains["testnet"]
    assert [u.value for u in chain.ws_urls] == ["wss://node.example/ws/KEY"]
    assert "KEY" not in repr(chain.ws_urls)  # a URL with a key never prints
    assert (chain.head_interval("evm"), chain.full_refresh_blocks) == (0.5, 8)
    assert settings.live.max_pending == 7 and settings.live.heartbeat == 2
    assert settings.limits.max_watched_lookups == 40


def test_newheads_sockets_are_for_evm_chains_and_ws_urls(tmp_path: Path) -> None:
    assert "must be a list of ws(s) URLs" in config_error(
        tmp_path, CHAIN + 'ws_urls = ["https://node.example"]\n'
    )
    assert "for EVM chains only" in config_error(
        tmp_path, STARKNET + 'ws_urls = ["wss://node.example"]\n'
    )
    assert "poll_interval" in config_error(tmp_path, CHAIN + "poll_interval = 0\n")


def test_the_environment_sets_a_chain_s_ws_urls_and_names_its_own_mistakes(
    tmp_path: Path,
) -> None:
    environ = {"BALANCE_GRAPH_WS_URLS_TESTNET": "wss://a.example/KEY,wss://b.example"}
    settings = load_settings(write(tmp_path, CHAIN), environ)
    assert [u.value for u in settings.chains["testnet"].ws_urls] == [
        "wss://a.example/KEY",
        "wss://b.example",
    ]
    with pytest.raises(ConfigError) as bad:
        load_settings(
            write(tmp_path, CHAIN), {"BALANCE_GRAPH_WS_URLS_TESTNET": "https://a.example"}
        )
    assert "BALANCE_GRAPH_WS_URLS_TESTNET (environment)" in str(bad.value)
    assert "a.example" not in str(bad.value)
    (warning,) = unknown_variables({"BALANCE_GRAPH_WS_URLS_TESTNT": "wss://x"}, settings)
    assert "did you mean BALANCE_GRAPH_WS_URLS_TESTNET?" in warning
