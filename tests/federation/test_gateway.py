"""Our subgraph behind a real Apollo Gateway, beside a real (Node) "users" subgraph.

Three processes talk over loopback: balance-graph (uvicorn in a thread), the users subgraph
(`users-subgraph.mjs`) and `node --test gateway.test.mjs`, which composes the two SDLs with
@apollo/composition, runs an ApolloGateway under @apollo/server and checks what a client gets.
This file only starts the parts and says what to expect (exact amounts from the devnet).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from eth_utils.address import to_checksum_address

from tests.conftest import Devnet, dead_chain, devnet_settings, live_server

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DEAD_CHAIN = "down"
BATCH_WALLETS = 50


def _first_line(stream: IO[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


@contextmanager
def users_subgraph(node: str, users: list[dict[str, Any]], env: dict[str, str]) -> Iterator[str]:
    """`users-subgraph.mjs` on a free port; yields the URL it printed."""
    proc = subprocess.Popen(
        [node, str(HERE / "users-subgraph.mjs")],
        cwd=ROOT,
        env={**env, "USERS_JSON": json.dumps(users), "USERS_PORT": "0"},
        stdin=subprocess.PIPE,  # closed by us (or by our death): the child exits on EOF
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = _first_line(proc.stdout, timeout=15)
        if not line:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise AssertionError(f"users subgraph did not start (exit {proc.poll()}):\n{err}")
        yield str(json.loads(line)["url"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def node_env() -> dict[str, str]:
    """The environment for the Node processes: no Apollo credentials, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    env["APOLLO_TELEMETRY_DISABLED"] = "1"
    env["NODE_ENV"] = "test"
    env.pop("NODE_OPTIONS", None)
    return env


def test_subgraph_composes_and_answers_through_apollo_gateway(
    tmp_path: Path, devnet: Devnet
) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@apollo" / "gateway").is_dir():
        pytest.fail("the federation test needs node and node_modules (run `npm ci`)")
    down = dead_chain()
    settings = devnet_settings(tmp_path, devnet, extra_chains={DEAD_CHAIN: down})

    first, second = devnet.sample.holders[0], devnet.sample.holders[1]
    # The referencing subgraph sends one wallet in lower case: we must answer in EIP-55.
    sent = [first.lower(), second]
    batch = [f"0x{0xB0B0_0000 + i:040x}" for i in range(BATCH_WALLETS)]  # never read before
    users = [
        {"id": "1", "name": "Ada", "wallets": sent},
        {"id": "2", "name": "Bob", "wallets": batch},
    ]
    expect = expected_answers(devnet, sent, batch)

    env = node_env()
    with live_server(settings) as base, users_subgraph(node, users, env) as users_url:
        bg_url = f"{base}/graphql"
        result = subprocess.run(
            [node, "--test", "--test-reporter=spec", str(HERE / "gateway.test.mjs")],
            cwd=ROOT,
            env={
                **env,
                "BG_URL": bg_url,
                "USERS_URL": users_url,
                "EXPECT_JSON": json.dumps(expect),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    output = f"--- node stdout ---\n{result.stdout}\n--- node stderr ---\n{result.stderr}"
    print(output)
    assert result.returncode == 0, output


def expected_answers(devnet: Devnet, sent: list[str], batch: list[str]) -> dict[str, Any]:
    """What gateway.test.mjs must see, read from the devnet itself."""
    first, second = devnet.sample.holders[0], devnet.sample.holders[1]
    usdc = devnet.sample.token("USDC")
    return {
        "chain": "devnet",
        "deadChain": DEAD_CHAIN,
        "user": {"id": "1", "name": "Ada", "sent": sent, "wallets": [first, second]},
        "tokens": [
            {"address": "native", "symbol": "ETH", "decimals": 18},
            {"address": usdc.address, "symbol": "USDC", "decimals": usdc.decimals},
        ],
        "balances": {
            holder: {
                "native": str(devnet.chain.get_balance(holder)),
                usdc.address: str(devnet.sample.balance(holder, "USDC")),
            }
            for holder in (first, second)
        },
        "batch": {
            "id": "2",
            "name": "Bob",
            "count": BATCH_WALLETS,
            "token": usdc.address,
            "sent": batch,
            "wallets": [to_checksum_address(w) for w in batch],
        },
    }
