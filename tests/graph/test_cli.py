"""The `balance-graph` command in-process: arguments, config errors, what it hands uvicorn.

Nothing here serves: `launch.run` and the demo are replaced by recorders (the port is still
taken, on a free one, as `serve` does). The real processes are tested in test_serve.py and
test_demo.py.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from devnet.anvil import find_free_port
from graph import cli
from graph.http.protocol import GuardedHttpToolsProtocol
from graph.workers import default_workers
from settings import DEFAULT_CONFIG

GOOD = """[chains.devnet]
chain_id = 31337
rpc_urls = ["http://127.0.0.1:8545"]
native = { symbol = "ETH", name = "Ether", decimals = 18 }
"""
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

pytestmark = pytest.mark.usefixtures("restore_logging")


class Recorder:
    """Stands in for `launch.run`: what it was given, and whether the socket was bound."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.addresses: list[tuple[str, int]] = []

    def __call__(self, app: Any, listener: socket.socket, **kwargs: Any) -> int:
        self.calls.append(((app,), kwargs))
        self.addresses.append(listener.getsockname()[:2])
        listener.close()
        return 0


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr("graph.launch.run", recorder)
    for name in ("BALANCE_GRAPH_CONFIG", "REDIS_URL"):  # serve sets the first: restore after
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("BALANCE_GRAPH_")]:
        monkeypatch.delenv(name)
    return recorder


def config(tmp_path: Path, text: str = GOOD) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def serve_argv(path: Path | None, *more: str) -> list[str]:
    argv = ["serve", "--port", str(find_free_port()), *more]
    return argv + (["--config", str(path)] if path else [])


def test_serve_checks_the_config_then_hands_uvicorn_the_app_factory(
    tmp_path: Path, launched: Recorder
) -> None:
    path = config(tmp_path)
    argv = serve_argv(path)
    assert cli.main(argv) == 0
    ((args, kwargs),) = launched.calls
    assert args == ("graph.app:create_app",)
    assert kwargs["factory"] is True
    assert launched.addresses == [("127.0.0.1", int(argv[2]))]
    assert kwargs["workers"] == default_workers()  # the CPUs this process may use
    assert kwargs["http"] is GuardedHttpToolsProtocol
    assert kwargs["limit_concurrency"] == 2048 and kwargs["timeout_keep_alive"] == 5
    assert kwargs["log_level"] == "info" and kwargs["proxy_headers"] is False
    assert kwargs["log_config"]["root"]["level"] == "INFO"
    assert os.environ["BALANCE_GRAPH_CONFIG"] == str(path.resolve())  # what workers read


def test_serve_passes_workers_and_log_level(tmp_path: Path, launched: Recorder) -> None:
    argv = ["--log-level", "warning", *serve_argv(config(tmp_path), "--workers", "3")]
    assert cli.main(argv) == 0
    ((_, kwargs),) = launched.calls
    assert kwargs["workers"] == 3 and kwargs["log_level"] == "warning"


def test_serve_reads_the_config_named_by_the_environment(
    tmp_path: Path, launched: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config(tmp_path)
    monkeypatch.setenv("BALANCE_GRAPH_CONFIG", str(path))
    assert cli.main(serve_argv(None)) == 0
    assert len(launched.calls) == 1
    assert os.environ["BALANCE_GRAPH_CONFIG"] == str(path.resolve())


def test_without_a_config_serve_uses_the_shipped_one(launched: Recorder) -> None:
    assert cli.main(serve_argv(None)) == 0
    assert os.environ["BALANCE_GRAPH_CONFIG"] == str(DEFAULT_CONFIG.resolve())


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ('[chains.devnet]\nrpc_urls = ["ftp://x"]\n', "rpc_urls"),
        ("[chains.devnet\n", "invalid TOML"),
    ],
)
def test_a_config_error_exits_2_with_the_message_on_stderr_and_starts_nothing(
    tmp_path: Path,
    launched: Recorder,
    capsys: pytest.CaptureFixture[str],
    text: str,
    detail: str,
) -> None:
    path = config(tmp_path, text)
    assert cli.main(serve_argv(path)) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"balance-graph: configuration error: {path.resolve()}: ")
    assert detail in captured.err and captured.out == ""
    assert launched.calls == []


def test_a_missing_config_file_exits_2(
    tmp_path: Path, launched: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(serve_argv(tmp_path / "nope.toml")) == 2
    assert "configuration error: cannot read config" in capsys.readouterr().err
    assert launched.calls == []


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('tokens = "missing.json"', "[chains.devnet] tokens: cannot read token list"),
        ('tokens = "."', "[chains.devnet] tokens: cannot read token list"),
        ('tokens = "bad.json"', "[chains.devnet] tokens: "),
    ],
)
def test_a_token_list_that_cannot_be_used_stops_serve_before_it_listens(
    tmp_path: Path,
    launched: Recorder,
    capsys: pytest.CaptureFixture[str],
    table: str,
    problem: str,
) -> None:
    (tmp_path / "bad.json").write_text('{"tokens": [{"chainId": 31337, "address": "0x12"}]}')
    path = config(tmp_path, GOOD + table + "\n")
    argv = serve_argv(path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"balance-graph: configuration error: {path.resolve()}: {problem}")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert launched.calls == []
    with socket.create_server(("127.0.0.1", int(argv[2]))):  # the port was given back
        pass


def test_a_data_dir_that_cannot_be_written_stops_serve_naming_the_key(
    tmp_path: Path, launched: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a directory")
    path = config(tmp_path, GOOD + f'[auth]\ndata_dir = "{tmp_path / "file" / "keys"}"\n')
    assert cli.main(serve_argv(path)) == 2
    err = capsys.readouterr().err
    assert f"{path.resolve()}: [auth] data_dir: cannot keep API keys in" in err
    assert launched.calls == []


def test_a_busy_port_is_named_before_the_config_is_even_read(
    tmp_path: Path, launched: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        argv = ["serve", "--port", str(port), "--config", str(tmp_path / "nope.toml")]
        assert cli.main(argv) == 3
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in err
    assert "configuration" not in err
    assert launched.calls == []


def test_variables_read_outside_the_settings_are_not_taken_for_typos() -> None:
    from devnet.compiler import CACHE_DIR_ENV

    assert CACHE_DIR_ENV in cli.OTHER_VARIABLES


def test_a_misspelt_variable_is_warned_about_and_a_bad_one_blamed_on_itself(
    tmp_path: Path,
    launched: Recorder,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = config(tmp_path)
    monkeypatch.setenv("BALANCE_GRAPH_RPC_URLS_DEVNT", "https://typo.example")
    assert cli.main(serve_argv(path)) == 0
    assert capsys.readouterr().err == (
        "balance-graph: warning: BALANCE_GRAPH_RPC_URLS_DEVNT is not a setting and is "
        "ignored: did you mean BALANCE_GRAPH_RPC_URLS_DEVNET?\n"
    )
    monkeypatch.setenv("BALANCE_GRAPH_RPC_URLS_DEVNET", "ftp://bad.example")
    assert cli.main(serve_argv(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "balance-graph: configuration error: BALANCE_GRAPH_RPC_URLS_DEVNET (environment): "
        "[chains.devnet]: rpc_urls must be"
    )
    assert str(path) not in err and len(launched.calls) == 1


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["serve", "--port", "http"],
        ["--log-level", "loud", "serve"],
        ["deploy"],
        ["serve", "--workers", "0"],
    ],
)
def test_bad_arguments_exit_2_with_usage(
    argv: list[str], launched: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage: balance-graph" in capsys.readouterr().err
    assert launched.calls == []


def test_version_and_serve_help_with_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("balance-graph ") and out.split()[1][0].isdigit()
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: 127.0.0.1)", "(default: 8000)", f"(default: {default_workers()})"):
        assert shown in help_text
    assert "address to listen on" in help_text and "cgroup" in help_text


def test_export_schema_prints_the_published_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export-schema"]) == 0
    assert capsys.readouterr().out == SCHEMA_FILE.read_text(encoding="utf-8")


def test_demo_gets_its_listen_address_and_workdir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, ...]] = []

    def run_demo(host: str, port: int, workdir: Path, log_level: str) -> int:
        calls.append((host, port, workdir, log_level))
        return 0

    monkeypatch.setattr("graph.demo.run_demo", run_demo)
    assert cli.main(["demo", "--port", "9200", "--workdir", str(tmp_path / "d")]) == 0
    assert calls == [("127.0.0.1", 9200, tmp_path / "d", "info")]
    assert cli.main(["demo"]) == 0
    assert calls[1][2] == Path(".demo")


def test_keys_are_made_listed_credited_revoked_and_deleted_with_the_configs_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    data = tmp_path / "keys"
    config.write_text(
        f'{GOOD}[auth]\ndata_dir = "{data}"\n[rate_limits.plans.pro]\nbalance = "600/min"\n',
        encoding="utf-8",
    )

    def keys(*args: str) -> tuple[int, str, str]:
        code = cli.main(["keys", *args, "--config", str(config)])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = keys("create", "--name", "acme", "--credits", "100", "--plan", "pro")
    key = out.strip()
    assert code == 0 and key.startswith("bgk_") and "\n" not in key
    assert "shown only this once" in err and key not in err
    assert str(data / "metering.sqlite3") in err  # where it went
    assert (data / "metering.sqlite3").is_file()
    assert keys("create", "--name", "acme")[0] == 1  # a name in use is not reused
    code, _, err = keys("create", "--name", "other", "--plan", "gold")
    assert code == 1 and "no [rate_limits.plans.gold]" in err and "pro" in err
    assert keys("create", "--name", "bad name")[0] == 1
    assert keys("create", "--name", "neg", "--credits", "-1")[0] == 1
    assert keys("credit", "acme", "50")[0] == 0
    code, _, err = keys("delete", "acme")
    assert code == 1 and "revoke it first" in err  # an active key is never deleted
    assert keys("revoke", "acme")[0] == 0
    code, out, _ = keys("list")
    assert code == 0 and "acme" in out and "150" in out and "revoked" in out and key not in out
    assert keys("revoke", "nobody")[0] == 1
    code, _, err = keys("delete", "acme")
    assert code == 0 and "the name is free again" in err
    assert "acme" not in keys("list")[1]
    assert keys("create", "--name", "acme")[0] == 0  # the name can be used again


def test_credits_over_the_maximum_are_refused_before_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18, defect 5: `--credits 10^20` was an OverflowError traceback on SQLite, and
    stored as "1e+20" on Redis."""
    config = tmp_path / "config.toml"
    config.write_text(f'{GOOD}[auth]\ndata_dir = "{tmp_path / "keys"}"\n', encoding="utf-8")

    def keys(*args: str) -> tuple[int, str]:
        code = cli.main(["keys", *args, "--config", str(config)])
        return code, capsys.readouterr().err

    code, err = keys("create", "--name", "huge", "--credits", str(10**20))
    assert code == 1 and "at most 1,000,000,000,000,000" in err and "Traceback" not in err
    assert keys("create", "--name", "max", "--credits", str(10**15))[0] == 0
    code, err = keys("credit", "max", "1")
    assert code == 1 and "at most 1,000,000,000,000,000" in err
    code, err = keys("credit", "max", str(-(10**20)))
    assert code == 1 and "at most 1,000,000,000,000,000" in err
