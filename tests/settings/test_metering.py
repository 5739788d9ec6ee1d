"""`[auth]`, `[rate_limits]` and `[server] trusted_proxies`: parsed once, refused precisely."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest

from settings import Rate, load_settings
from tests.settings.test_loader import CHAIN, config_error, write


def test_the_defaults_are_tokenkits_limits_and_no_key_is_required(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CHAIN), {})
    assert settings.auth.required is False
    assert settings.rate_limits.anonymous == {
        "balance": Rate(30, 60),
        "balances": Rate(10, 60),
        "account": Rate(10, 60),
        "token": Rate(60, 60),
        "introspection": Rate(20, 60),
        "subscribe": Rate(10, 60),
    }
    assert settings.rate_limits.plans == {} and settings.server.trusted_proxies == ()


def test_rates_plans_and_proxies_are_read_as_written(tmp_path: Path) -> None:
    text = CHAIN + (
        '[auth]\nrequired = true\ndata_dir = "~/keys"\n'
        '[rate_limits.anonymous]\nbalance = "5/s"\n'
        '[rate_limits.plans.pro]\nbalance = "600 / min"\naccount = "1000/hour"\ntoken = "9/day"\n'
        '[server]\ntrusted_proxies = ["10.0.0.0/8", "::1", "192.168.1.7"]\n'
    )
    settings = load_settings(write(tmp_path, text), {})
    assert settings.auth.required and settings.auth.store_dir() == Path("~/keys").expanduser()
    assert settings.rate_limits.anonymous == {"balance": Rate(5, 1)}  # the others: unlimited
    assert settings.rate_limits.plans["pro"] == {
        "balance": Rate(600, 60),
        "account": Rate(1000, 3600),
        "token": Rate(9, 86400),
    }
    assert settings.server.trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
        ip_network("192.168.1.7/32"),
    )


def test_an_empty_anonymous_table_lifts_the_anonymous_limits(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, CHAIN + "[rate_limits.anonymous]\n"), {})
    assert settings.rate_limits.anonymous == {}


def test_the_environment_places_the_store_and_the_proxies(tmp_path: Path) -> None:
    environ = {
        "BALANCE_GRAPH_DATA_DIR": str(tmp_path / "data"),
        "BALANCE_GRAPH_TRUSTED_PROXIES": "10.0.0.0/8, 172.16.0.0/12",
    }
    settings = load_settings(write(tmp_path, CHAIN + '[auth]\ndata_dir = "/x"\n'), environ)
    assert settings.auth.store_dir() == tmp_path / "data"
    assert settings.server.trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("172.16.0.0/12"),
    )


def test_without_a_data_dir_the_store_is_in_the_xdg_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(write(tmp_path, CHAIN), {})
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert settings.auth.store_dir() == tmp_path / "xdg" / "balance-graph"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert settings.auth.store_dir() == Path.home() / ".local/share/balance-graph"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[rate_limits.anonymous]\nbalance = "30"\n', 'balance must look like "30/min"'),
        ('[rate_limits.anonymous]\nbalance = "0/min"\n', "between 1 and 1,000,000"),
        ('[rate_limits.anonymous]\nbalance = "30/week"\n', 'must look like "30/min"'),
        ("[rate_limits.anonymous]\nbalance = 30\n", 'must look like "30/min"'),
        ('[rate_limits.anonymous]\nbalanse = "30/min"\n', "'balance', 'balances', 'account'"),
        ('[rate_limits.plans."pro plan"]\nbalance = "1/s"\n', "plan names are"),
        ("[rate_limits]\nanonymous = 3\n", "[rate_limits.anonymous] must be a table"),
        ('[auth]\nrequired = "yes"\n', "[auth]: 'required' has the wrong type"),
        ('[server]\ntrusted_proxies = ["10.0.0.0/33"]\n', "CIDR"),
        ('[server]\ntrusted_proxies = ["proxy.local"]\n', "CIDR"),
    ],
)
def test_bad_metering_settings_are_refused_with_their_table_and_key(
    tmp_path: Path, toml: str, expected: str
) -> None:
    assert expected in config_error(tmp_path, CHAIN + toml)
