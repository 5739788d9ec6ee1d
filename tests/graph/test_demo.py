"""`balance-graph demo` as a user runs it: two anvils, sample tokens, USD values, clean exit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from devnet.anvil import find_free_port

pytestmark = pytest.mark.integration


def launch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "graph.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"server not healthy after {timeout}s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def graphql(port: int, query: str) -> dict[str, Any]:
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query}, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_demo_serves_two_chains_with_usd_values_and_cleans_up(tmp_path: Path) -> None:
    port, log = find_free_port(), tmp_path / "demo.log"
    proc = launch(["demo", "--port", str(port), "--workdir", str(tmp_path / "demo")], {}, log)
    try:
        wait_healthy(port, proc, log, timeout=60)
        output = log.read_text()
        holder = output.split("holders: ")[1].split(",")[0].strip()
        anvil_ports = [
            int(part.split(" ")[0]) for part in output.split("anvil at http://127.0.0.1:")[1:]
        ]
        assert len(anvil_ports) == 2
        assert "account(address:" in output and "portfolio" in output
        body = graphql(
            port,
            '{ account(address: "%s") { balances(minValueUsd: "0") { chain rawAmount valueUsd '
            "token { symbol } } portfolio { totalUsd complete unpricedCount byChain { chain } } } }"
            % holder,
        )
        rows = {(r["chain"], r["token"]["symbol"]): r for r in body["data"]["account"]["balances"]}
        for chain in ("devnet", "devnet-l2"):
            assert rows[(chain, "USDC")]["rawAmount"] == "1234500000"  # holder 0's sample mint
            assert Decimal(rows[(chain, "USDC")]["valueUsd"]) == Decimal("1234.5") * Decimal(
                "0.9998"
            )
            assert rows[(chain, "ETH")]["rawAmount"] == str(10_000 * 10**18)  # anvil's dev funds
            assert rows[(chain, "MKR")]["valueUsd"] is None  # deliberately unpriced
        portfolio = body["data"]["account"]["portfolio"]
        assert portfolio["complete"] is False and portfolio["unpricedCount"] == 2
        assert {c["chain"] for c in portfolio["byChain"]} == {"devnet", "devnet-l2"}
    finally:
        stop(proc, signal.SIGINT)
    for anvil_port in anvil_ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", anvil_port), 1):
            pass
