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
        # holder 0's sample mint; on devnet, less a week of sends (-100 +40 -250 +5, twice)
        for chain, usdc in (("devnet", "624.5"), ("devnet-l2", "1234.5")):
            assert rows[(chain, "USDC")]["rawAmount"] == str(int(Decimal(usdc) * 10**6))
            assert Decimal(rows[(chain, "USDC")]["valueUsd"]) == Decimal(usdc) * Decimal("0.9998")
        assert rows[("devnet-l2", "MKR")]["valueUsd"] is None  # deliberately unpriced
        assert Decimal(rows[("devnet", "MKR")]["valueUsd"]) == Decimal("3.25") * Decimal("1520.5")
        assert rows[("devnet-l2", "ETH")]["rawAmount"] == str(10_000 * 10**18)  # dev funds
        portfolio = body["data"]["account"]["portfolio"]
        assert portfolio["complete"] is False and portfolio["unpricedCount"] == 1
        assert {c["chain"] for c in portfolio["byChain"]} == {"devnet", "devnet-l2"}
        history = graphql_at(
            port, output.split("History:")[1].split("\n", 1)[1].split("GraphiQL:")[0]
        )
        assert "errors" not in history, history
        account = history["data"]["account"]
        events = account["balanceHistory"]["events"]
        assert [e["delta"] for e in events] == [
            "5000000",
            "-250000000",
            "40000000",
            "-100000000",
            "5000000",
        ]
        assert events[0]["balance"] == "624500000"
        assert account["balanceHistory"]["pageInfo"]["hasNextPage"] is True
        totals = [p["totalUsd"] for p in account["portfolioHistory"]]
        assert len(totals) == 10 and len(set(totals)) > 3  # the value moved day by day
    finally:
        stop(proc, signal.SIGINT)
    for anvil_port in anvil_ports:
        with pytest.raises(OSError), socket.create_connection(("127.0.0.1", anvil_port), 1):
            pass
