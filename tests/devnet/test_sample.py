"""devnet.sample: the sample tokens, their mints and the token list describing them."""

from __future__ import annotations

import pytest

from devnet.chain import MULTICALL3_ADDRESS, DevChain
from devnet.sample import deploy_sample_tokens
from tests.devnet.conftest import CHAIN_ID

pytestmark = pytest.mark.integration


def test_deploy_sample_tokens(chain: DevChain) -> None:
    holders = chain.accounts()[3:5]
    deployment = deploy_sample_tokens(chain, holders)
    assert deployment.multicall3 == MULTICALL3_ADDRESS
    assert [t.symbol for t in deployment.tokens] == ["USDC", "WETH", "MKR"]
    assert deployment.balance(holders[0], "USDC") == 1_234_500_000
    assert deployment.balance(holders[1], "USDC") == 2_469_000_000
    for (owner, token), amount in deployment.minted.items():
        assert chain.call(token, "balanceOf(address)", owner, returns=["uint256"]) == (amount,)
    mkr = deployment.token("MKR")
    assert chain.call(mkr.address, "symbol()", returns=["bytes32"]) == (b"MKR".ljust(32, b"\0"),)

    token_list = deployment.token_list(CHAIN_ID, timestamp="2024-01-01T00:00:00Z")
    assert token_list["version"] == {"major": 1, "minor": 0, "patch": 0}
    entries = {t["symbol"]: t for t in token_list["tokens"]}
    assert entries["USDC"] == {
        "chainId": CHAIN_ID,
        "address": deployment.token("USDC").address,
        "name": "USD Coin",
        "symbol": "USDC",
        "decimals": 6,
    }
