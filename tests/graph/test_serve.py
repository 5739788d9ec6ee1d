"""`balance-graph serve` as a user runs it: real processes, real ports, real Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from devnet.anvil import Anvil, find_free_port
from devnet.chain import DevChain
from devnet.sample import deploy_sample_tokens
from tests.conftest import (
    CHAIN_ID,
    RedisServer,
    dead_url,
    graphql_at,
    launch,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "SECRETKEY0123456789"
BALANCES = '{ account(address: "%s") { balances { rawAmount token { symbol } } } }'


def symbols(body: dict[str, Any]) -> dict[str, str]:
    return {r["token"]["symbol"]: r["rawAmount"] for r in body["data"]["account"]["balances"]}


@pytest.fixture
def private_chain(tmp_path: Path) -> Iterator[tuple[Anvil, Path, str, dict[str, int]]]:
    """An anvil of this test's own (it will be killed) and a config pointing at it."""
    with Anvil(chain_id=CHAIN_ID) as anvil, DevChain(anvil.url) as chain:
        holder = chain.accounts()[1]
        sample = deploy_sample_tokens(chain, [holder])
        (tmp_path / "tokens.json").write_text(json.dumps(sample.token_list()), encoding="utf-8")
        dead = f"http://127.0.0.1:{find_free_port()}/v3/{SECRET}?key={SECRET}"
        config = tmp_path / "config.toml"
        config.write_text(
            '[chains.devnet]\nfamily = "evm"\nchain_id = 31337\n'
            f'rpc_urls = ["{dead}", "{anvil.url}"]\n'
            'native = { symbol = "ETH", name = "Ether", decimals = 18 }\ntokens = "tokens.json"\n'
            "[rate_limits.anonymous]\n",  # 14 account calls a minute: more than anonymous get
            encoding="utf-8",
        )
        expected = {t.symbol: sample.balance(holder, t.symbol) for t in sample.tokens}
        expected["ETH"] = chain.get_balance(holder)
        yield anvil, config, holder, expected


def test_two_workers_share_redis_and_keep_answering_when_the_chain_dies(
    tmp_path: Path, private_chain: tuple[Anvil, Path, str, dict[str, int]]
) -> None:
    anvil, config, holder, expected = private_chain
    port, log = find_free_port(), tmp_path / "serve.log"
    with RedisServer() as server:
        proc = launch(
            ["serve", "--config", str(config), "--port", str(port), "--workers", "2"],
            {"REDIS_URL": server.url},
            log,
        )
        try:
            wait_healthy(port, proc, log)
            first = graphql_at(port, BALANCES % holder)
            assert symbols(first) == {k: str(v) for k, v in expected.items()}
            stored = redis.Redis.from_url(server.url).keys("bg:v1:bal:*")
            assert len(stored) == len(expected)
            anvil.stop()  # from here on only the shared cache can answer
            for _ in range(12):
                assert graphql_at(port, BALANCES % holder) == first
            refused = graphql_at(
                port, BALANCES.replace("balances", "balances(forceRefresh: true)") % holder
            )
            assert refused["data"]["account"]["balances"] == []
            assert refused["errors"][0]["extensions"]["chain"] == "devnet"
            # 14 requests spread over both workers: any worker's /metrics counts all of them.
            for _ in range(3):
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
                counted = [
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("graphql_requests_total{") and 'root_field="account"' in line
                ]
                assert sum(counted) == 14, text
        finally:
            stop(proc)
    output = log.read_text()
    assert "failed" in output  # the dead first endpoint was reported...
    assert SECRET not in output  # ...without its key
    assert proc.returncode == 0


def test_serve_refuses_a_broken_config_with_a_clear_message(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[chains.devnet]\nfamily = "evm"\nrpc_urls = ["ftp://x"]\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "rpc_urls" in result.stderr


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m graph.cli <args>` to its end, as a supervisor would see it."""
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_missing_token_list_stops_serve_before_it_listens_with_exit_2(
    tmp_path: Path, workers: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[chains.devnet]\nchain_id = 31337\nrpc_urls = ["{dead_url()}"]\n'
        'native = { symbol = "ETH", name = "Ether", decimals = 18 }\ntokens = "missing.json"\n',
        encoding="utf-8",
    )
    port = str(find_free_port())
    result = run_cli("serve", "--config", str(config), "--port", port, "--workers", workers)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"balance-graph: configuration error: {config.resolve()}: [chains.devnet] tokens: "
        f"cannot read token list {tmp_path.resolve() / 'missing.json'}: No such file or directory\n"
    )


FAILING_APP = """
from contextlib import asynccontextmanager
from starlette.applications import Starlette

@asynccontextmanager
async def lifespan(app):
    raise RuntimeError("this worker cannot start")
    yield

def create_app():
    return Starlette(lifespan=lifespan)
"""
LAUNCH = """
import sys
from graph import launch
listener = launch.listen("127.0.0.1", 0)
sys.exit(launch.run("failing_app:create_app", listener, workers=int(sys.argv[1]), factory=True))
"""


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_worker_that_fails_to_start_is_a_failed_start_not_a_clean_exit(
    tmp_path: Path, workers: str
) -> None:
    # A failure only a worker can see (the checks before listening cannot catch everything):
    # uvicorn's supervisor stops, and the exit code must say the start failed.
    (tmp_path / "failing_app.py").write_text(textwrap.dedent(FAILING_APP), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH, workers],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
    )
    assert result.returncode == 3, result.stderr
    assert "this worker cannot start" in result.stderr


def test_multi_worker_serve_names_a_busy_port_and_exits_3(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--workers", "2")
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in result.stderr


def test_every_worker_gives_the_same_readiness_answer(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[chains.dead]\nchain_id = 1\nrpc_urls = ["{dead_url()}"]\nfailure_threshold = 1\n'
        'timeout = 1\nnative = { symbol = "ETH", name = "Ether", decimals = 18 }\n'
        f'[auth]\ndata_dir = "{tmp_path / "data"}"\n[rate_limits.anonymous]\n',
        encoding="utf-8",
    )
    port, log = find_free_port(), tmp_path / "serve.log"
    proc = launch(
        ["serve", "--config", str(config), "--port", str(port), "--workers", "2"], {}, log
    )
    try:
        wait_healthy(port, proc, log)
        # One request, so one worker learns that the chain is dead and opens its circuit.
        graphql_at(
            port,
            '{ balance(account: "%s", chain: "dead", token: "native") { rawAmount } }'
            % ("0x" + "11" * 20),
        )
        answers = set()
        for _ in range(30):  # a new connection each time: both workers answer some
            ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=10)
            answers.add((ready.status_code, json.dumps(ready.json(), sort_keys=True)))
        assert len(answers) == 1, answers
        ((code, body),) = answers
        assert code == 200  # a dead upstream does not take the replica out of rotation
        assert json.loads(body)["chains"]["dead"]["state"] == "down"
        assert json.loads(body)["status"] == "degraded"
    finally:
        stop(proc)
