"""devnet.anvil: an anvil process on a free port, stopped cleanly, failures reported."""

from __future__ import annotations

import socket

import pytest

from devnet.anvil import Anvil
from devnet.chain import DevChain, DevnetError
from tests.devnet.conftest import CHAIN_ID

pytestmark = pytest.mark.integration


def test_anvil_answers_chain_id(node: Anvil, chain: DevChain) -> None:
    assert node.url == f"http://127.0.0.1:{node.port}"
    assert node.chain_id == CHAIN_ID
    assert chain.chain_id() == CHAIN_ID
    assert len(chain.accounts()) >= 2


def test_anvil_stop_kills_process_and_frees_port() -> None:
    anvil = Anvil(chain_id=1).start()
    port = anvil.port
    proc = anvil._proc
    assert proc is not None
    assert anvil.running
    anvil.stop()
    assert proc.returncode is not None
    assert not anvil.running
    anvil.stop()  # idempotent
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
    with pytest.raises(DevnetError):
        _ = anvil.url


def test_anvil_reports_startup_failure() -> None:
    with pytest.raises(DevnetError, match="anvil failed to start"):
        Anvil(extra_args=["--definitely-not-a-flag"]).start()
