"""The `balance-graph` command in-process: arguments, config errors, what it hands uvicorn.

Nothing here starts a server: uvicorn.run and the demo are replaced by recorders. The real
processes are tested in test_serve.py and test_demo.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from graph import cli
from graph.http.protocol import GuardedHttpToolsProtocol
from settings import DEFAULT_CONFIG

GOOD = """[chains.devnet]
chain_id = 31337
rpc_urls = ["http://127.0.0.1:8545"]
native = { symbol = "ETH", name = "Ether", decimals = 18 }
"""
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

pytestmark = pytest.mark.usefixtures("restore_logging")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.metrics_dirs: list[str] = []

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        self.calls.append((args, kwargs))
        self.metrics_dirs.append(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
        return 0


@pytest.fixture
def uvicorn_run(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr("graph.cli.uvicorn.run", recorder)
    monkeypatch.delenv("BALANCE_GRAPH_CONFIG", raising=False)  # serve sets it: restore after
    monkeypatch.delenv("REDIS_URL", raising=False)
    return recorder


def config(tmp_path: Path, text: str = GOOD) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_serve_validates_the_config_then_hands_uvicorn_the_app_factory(
    tmp_path: Path, uvicorn_run: Recorder
) -> None:
    path = config(tmp_path)
    assert cli.main(["serve", "--config", str(path)]) == 0
    ((args, kwargs),) = uvicorn_run.calls
    assert args == ("graph.app:create_app",)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 8000)
    assert kwargs["workers"] == (os.cpu_count() or 1)  # one per core by default
    assert kwargs["http"] is GuardedHttpToolsProtocol
    assert kwargs["limit_concurrency"] == 2048 and kwargs["timeout_keep_alive"] == 5
    assert kwargs["log_level"] == "info" and kwargs["proxy_headers"] is False
    assert kwargs["log_config"]["root"]["level"] == "INFO"
    assert os.environ["BALANCE_GRAPH_CONFIG"] == str(path.resolve())  # what workers read


def test_serve_passes_listen_address_workers_and_log_level(
    tmp_path: Path, uvicorn_run: Recorder
) -> None:
    argv = ["--log-level", "warning", "serve", "--config", str(config(tmp_path))]
    argv += ["--host", "0.0.0.0", "--port", "9100", "--workers", "3"]
    assert cli.main(argv) == 0
    ((_, kwargs),) = uvicorn_run.calls
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("0.0.0.0", 9100, 3)
    assert kwargs["log_level"] == "warning"
    assert uvicorn_run.metrics_dirs[0]  # several workers: one shared metrics directory ...
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # ... removed afterwards
    assert not os.path.exists(uvicorn_run.metrics_dirs[0])


def test_serve_reads_the_config_named_by_the_environment(
    tmp_path: Path, uvicorn_run: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config(tmp_path)
    monkeypatch.setenv("BALANCE_GRAPH_CONFIG", str(path))
    assert cli.main(["serve"]) == 0
    assert len(uvicorn_run.calls) == 1
    assert os.environ["BALANCE_GRAPH_CONFIG"] == str(path.resolve())


def test_without_a_config_serve_uses_the_shipped_one(uvicorn_run: Recorder) -> None:
    assert cli.main(["serve"]) == 0
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
    uvicorn_run: Recorder,
    capsys: pytest.CaptureFixture[str],
    text: str,
    detail: str,
) -> None:
    path = config(tmp_path, text)
    assert cli.main(["serve", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"balance-graph: configuration error: {path.resolve()}: ")
    assert detail in captured.err and captured.out == ""
    assert uvicorn_run.calls == []


def test_a_missing_config_file_exits_2(
    tmp_path: Path, uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "configuration error: cannot read config" in capsys.readouterr().err
    assert uvicorn_run.calls == []


@pytest.mark.parametrize(
    "argv",
    [[], ["serve", "--port", "http"], ["--log-level", "loud", "serve"], ["deploy"]],
)
def test_bad_arguments_exit_2_with_usage(
    argv: list[str], uvicorn_run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage: balance-graph" in capsys.readouterr().err
    assert uvicorn_run.calls == []


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


def test_keys_are_made_listed_credited_and_revoked_with_the_configs_store(
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
    assert (data / "metering.sqlite3").is_file()
    assert keys("create", "--name", "acme")[0] == 1  # names are never reused
    code, _, err = keys("create", "--name", "other", "--plan", "gold")
    assert code == 1 and "no [rate_limits.plans.gold]" in err and "pro" in err
    assert keys("create", "--name", "bad name")[0] == 1
    assert keys("create", "--name", "neg", "--credits", "-1")[0] == 1
    assert keys("credit", "acme", "50")[0] == 0
    assert keys("revoke", "acme")[0] == 0
    code, out, _ = keys("list")
    assert code == 0 and "acme" in out and "150" in out and "revoked" in out and key not in out
    assert keys("revoke", "nobody")[0] == 1


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
