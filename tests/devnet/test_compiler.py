"""devnet.compiler: the test contracts compile with the pinned solc (a Node.js process)."""

from __future__ import annotations

import pytest

from devnet.compiler import compile_contracts

pytestmark = pytest.mark.integration


def test_compile_contracts_produces_all_artifacts() -> None:
    artifacts = compile_contracts()
    expected = {
        "Multicall3",
        "TestToken",
        "Bytes32Token",
        "NoDecimalsToken",
        "RevertingToken",
        "TestNFT",
        "TestMultiToken",
    }
    assert expected <= set(artifacts)
    for artifact in artifacts.values():
        assert artifact.bytecode
        assert artifact.deployed_bytecode
        assert artifact.abi
    assert compile_contracts() == artifacts  # cached, stable
