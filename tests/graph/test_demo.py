"""`balance-graph demo` as a user runs it: two anvils, sample tokens, USD values, the printed
examples and keys flow run as printed, and a clean stop, whatever the signal.

One demo serves the module's tests (starting one costs seconds); the last test stops it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from devnet.anvil import find_free_port
from tests.conftest import (
    ROOT,
    Devnet,
    dead_url,
    devnet_settings,
    graphql_at,
    launch,
    live_server,
    run_node_test,
    stop,
    wait_healthy,
)
from tests.graph.streams.client import session

pytestmark = pytest.mark.integration

ACCOUNT_QUERY = '{ account(address: "%s") { balances { chain amount token { symbol } } } }'


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    workdir: Path

    @property
    def output(self) -> str:
        return self.log.read_text()

    @property
    def holder(self) -> str:
        return self.output.split("holders: ")[1].split(",")[0].strip()

    def printed(self, start: str, end: str) -> str:
        """The banner's text from the line after `start` up to `end`."""
        return self.output.split(start, 1)[1].split("\n", 1)[1].split(end, 1)[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo")
    port, log = find_free_port(), tmp / "demo.log"
    proc = launch(["demo", "--port", str(port), "--workdir", str(tmp / "demo")], {}, log)
    try:
        wait_healthy(port, proc, log, timeout=60)
        yield Demo(proc, port, log, tmp / "demo")
    finally:
        stop(proc, signal.SIGINT)  # the whole group, if the last test did not stop it


def shell(command: str) -> subprocess.CompletedProcess[str]:
    """A printed command, pasted into bash as it is."""
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )


def test_demo_serves_two_chains_with_usd_values(demo: Demo) -> None:
    output = demo.output
    anvil_ports = [
        int(part.split(" ")[0]) for part in output.split("anvil at http://127.0.0.1:")[1:]
    ]
    assert len(anvil_ports) == 2
    assert "account(address:" in output and "portfolio" in output
    body = graphql_at(
        demo.port,
        '{ account(address: "%s") { balances(minValueUsd: "0") { chain rawAmount valueUsd '
        "token { symbol } } portfolio { totalUsd complete unpricedCount byChain { chain } } } }"
        % demo.holder,
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
    assert portfolio["complete"] is False and portfolio["unpricedCount"] == 1  # MKR on l2
    assert {c["chain"] for c in portfolio["byChain"]} == {"devnet", "devnet-l2"}


def test_discovery_shows_the_tokens_on_no_list_and_logos_for_the_listed(demo: Demo) -> None:
    example = demo.printed("found by discovery, from devnet's own transfer logs:", "History:")
    body = graphql_at(demo.port, example)
    assert "errors" not in body, body
    account = body["data"]["account"]
    rows = {r["token"]["symbol"]: r for r in account["balances"]}
    assert rows["DGLD"]["rawAmount"] == str(42 * 10**18)
    assert (rows["DART"]["token"]["standard"], rows["DART"]["rawAmount"]) == ("ERC721", "1")
    assert rows["SOLD"]["rawAmount"] == "0"  # received, then sent away: a zero row
    assert "CLAIM" not in rows  # spam stays hidden
    assert rows["USDC"]["token"]["logo"].startswith("https://")
    assert rows["DGLD"]["token"]["logo"] is None  # on no list: no logo, never a guess
    (status,) = account["discovery"]
    assert status["complete"] is True and status["source"] == "logs"


def test_the_printed_history_example_shows_movement(demo: Demo) -> None:
    history = graphql_at(demo.port, demo.printed("History:", "From a shell"))
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


def test_a_person_exploring_the_demo_is_not_rate_limited(demo: Demo) -> None:
    # Production's anonymous limit is 10 `account` calls a minute; the banner says why not here.
    for _ in range(15):
        graphql_at(demo.port, ACCOUNT_QUERY % demo.holder)
    assert "none for callers without a key" in demo.output


def test_the_printed_curl_example_runs_as_pasted(demo: Demo) -> None:
    command = demo.printed("From a shell (another terminal):", "Rate limits:").strip()
    assert "…" not in command
    result = shell(command)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["data"]["account"]["balances"]
    assert {r["chain"] for r in rows} == {"devnet", "devnet-l2"}


async def test_the_printed_subscription_shows_the_printed_transfer(demo: Demo) -> None:
    live = demo.printed("Live balances:", "Tokens on no list")
    subscription = live.split("then send", 1)[0].strip()
    curl = next(line.strip() for line in live.splitlines() if line.strip().startswith("curl"))
    async with session(f"http://127.0.0.1:{demo.port}") as client:
        await client.send({"type": "subscribe", "id": "1", "payload": {"query": subscription}})
        rows = await client.events(1, wait=30)  # native first: discovery's rows follow it
        assert rows[0]["balance"]["token"]["symbol"] == "ETH"
        before = int(rows[0]["balance"]["rawAmount"])
        result = await asyncio.to_thread(shell, curl)
        assert result.returncode == 0 and '"result":"0x' in result.stdout, result.stdout
        while True:  # past the rest of the snapshot: the change is the first with a previous
            (event,) = await client.events(1, wait=15)
            if event["previousRawAmount"] is not None:
                break
    assert event["balance"]["token"]["symbol"] == "ETH"
    assert event["previousRawAmount"] == str(before)
    assert int(event["balance"]["rawAmount"]) == before + 10**18


def test_the_printed_keys_flow_makes_a_pro_key_the_demo_accepts(demo: Demo) -> None:
    flow = demo.printed("API keys are kept in", "Wallet page:").strip()
    store = demo.output.split("API keys are kept in ")[1].split(":\n")[0]
    assert store == str(demo.workdir.resolve() / "data" / "metering.sqlite3")
    create, curl, listing = (" ".join(c.split()) for c in flow.replace("\\\n", " ").split("\n"))
    graphql_at(demo.port, ACCOUNT_QUERY % demo.holder)  # discovery has run: its finds are known
    config = demo.workdir.resolve() / "config.toml"
    assert create.endswith(f"--plan pro --credits 1000 --config {config})")
    result = shell(f"{create.replace('--name me', '--name tester')}\n{curl}\n{listing}")
    assert result.returncode == 0, result.stderr
    # 2 chains x (4 listed tokens + 10 for discovery) + the 4 unlisted tokens found on devnet
    assert "HTTP/1.1 200 OK" in result.stdout and "x-credits-charged: 32" in result.stdout
    assert "x-credits-remaining: 968" in result.stdout
    assert "tester" in result.stdout.split("NAME")[1] and "pro" in result.stdout
    # A key made against another store (no --config) is refused, and the 401 says where the
    # demo looked, without the key.
    balance_graph = create.split("$(", 1)[1].split()[0]
    elsewhere = shell(f"{balance_graph} keys create --name lost")
    key = elsewhere.stdout.strip()
    assert key.startswith("bgk_"), elsewhere.stderr
    refused = httpx.post(
        f"http://127.0.0.1:{demo.port}/graphql",
        json={"query": ACCOUNT_QUERY % demo.holder},
        headers={"x-api-key": key},
    )
    assert refused.status_code == 401
    assert store in refused.json()["errors"][0]["message"] and key not in refused.text


def anvils_of(pid: int) -> list[int]:
    """The anvil processes `pid` started (from /proc: their parent and command line)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and b"anvil" in command:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


WALLET_TEST = str(ROOT / "tests" / "browser" / "wallet.test.mjs")
ARTIFACTS = ROOT / "test-artifacts"
"""Kept after the run (and ignored by git): the wallet page's screenshot."""


def test_the_wallet_page_shows_the_demo_wallet_in_chromium(
    demo: Demo, devnet: Devnet, tmp_path: Path
) -> None:
    """The printed wallet URL in real Chromium (tests/browser/wallet.test.mjs): rows by value,
    paging, the chart of the demo's week, a token's history, keyboard and phone width; and a
    second service with a chain that cannot be reached, whose failure the page names."""
    (wallet,) = [
        line.split(": ", 1)[1]
        for line in demo.output.splitlines()
        if line.startswith("Wallet page: ")
    ]
    assert wallet == f"http://127.0.0.1:{demo.port}/wallet/{demo.holder}"
    dead = {
        "name": "Unreachable",
        "family": "evm",
        "chain_id": 31339,
        "rpc_urls": [dead_url()],
        "native": {"symbol": "ETH", "name": "Ether", "decimals": 18},
    }
    settings = devnet_settings(tmp_path, devnet, extra_chains={"devnet-down": dead})
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "wallet.png"
    screenshot.unlink(missing_ok=True)
    with live_server(settings) as broken:
        env = {
            "BG_WALLET": wallet,
            "BG_ACCOUNT": demo.holder,
            "BG_OTHER": demo.output.split("holders: ")[1].split(",")[1].strip(),
            "BG_BROKEN_URL": broken,
            "BG_BROKEN_ACCOUNT": devnet.holder,
            "BG_BROKEN_CHAIN": "devnet-down",
            "BG_SCREENSHOT": str(screenshot),
        }
        output = run_node_test(WALLET_TEST, env, timeout=180)
    assert re.search(r"\bpass 4\n", output) and re.search(r"\bfail 0\n", output), output
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_sigterm_stops_the_demo_and_both_anvils(demo: Demo) -> None:
    anvils = anvils_of(demo.proc.pid)
    assert len(anvils) == 2
    os.kill(demo.proc.pid, signal.SIGTERM)  # the demo only, as `kill <pid>` or a supervisor
    try:
        code = demo.proc.wait(30)
        deadline = time.monotonic() + 10
        while any(map(running, anvils)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in anvils if running(pid)] == []
        assert code == 0  # a requested stop is a clean one
    finally:
        for pid in filter(running, anvils):  # never left behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
    assert "demo stopped" in demo.output


def test_a_second_demo_on_a_busy_port_changes_nothing(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.mkdir()
    (workdir / "config.toml").write_text("# the running demo's config\n")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        log = tmp_path / "second.log"
        proc = launch(["demo", "--port", str(port), "--workdir", str(workdir)], {}, log)
        try:
            assert proc.wait(30) == 3
        finally:
            stop(proc)
    output = log.read_text()
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in output
    assert "anvil" not in output and "GraphiQL" not in output  # no chain, no banner
    assert (workdir / "config.toml").read_text() == "# the running demo's config\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["config.toml"]
