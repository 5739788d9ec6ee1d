"""`balance-graph demo` as a user runs it: two anvils, sample tokens, USD values, clean exit."""

from __future__ import annotations

import signal
import socket
from decimal import Decimal
from pathlib import Path

import pytest

from devnet.anvil import find_free_port
from tests.conftest import graphql_at, launch, stop, wait_healthy

pytestmark = pytest.mark.integration


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
        body = graphql_at(
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
