"""devnet.chain: deploy, call and transact against anvil; the test contracts; Multicall3."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address

from devnet.abi import encode_call
from devnet.chain import MULTICALL3_ADDRESS, DevChain, DevnetError, RpcError
from tests.devnet.conftest import CHAIN_ID

pytestmark = pytest.mark.integration

AGGREGATE3 = "aggregate3((address,bool,bytes)[])"
RESULTS = ["(bool,bytes)[]"]


def test_test_token_metadata_and_mint(chain: DevChain, holder: str) -> None:
    token = chain.deploy("TestToken", "USD Coin", "USDC", 6)
    assert chain.call(token, "decimals()", returns=["uint8"]) == (6,)
    assert chain.call(token, "symbol()", returns=["string"]) == ("USDC",)
    chain.transact(token, "mint(address,uint256)", holder, 1_234_500_000)
    assert chain.call(token, "balanceOf(address)", holder, returns=["uint256"]) == (1_234_500_000,)
    assert chain.call(token, "totalSupply()", returns=["uint256"]) == (1_234_500_000,)


def test_test_token_transfer_and_allowance(chain: DevChain) -> None:
    owner, spender, receiver = chain.accounts()[:3]
    token = chain.deploy("TestToken", "Wrapped Ether", "WETH", 18)
    chain.transact(token, "mint(address,uint256)", owner, 100)
    chain.transact(token, "transfer(address,uint256)", receiver, 30, sender=owner)
    chain.transact(token, "approve(address,uint256)", spender, 50, sender=owner)
    transfer_from = "transferFrom(address,address,uint256)"
    chain.transact(token, transfer_from, owner, receiver, 20, sender=spender)
    balance = "balanceOf(address)"
    assert chain.call(token, balance, owner, returns=["uint256"]) == (50,)
    assert chain.call(token, balance, receiver, returns=["uint256"]) == (50,)
    allowance = chain.call(token, "allowance(address,address)", owner, spender, returns=["uint256"])
    assert allowance == (30,)
    with pytest.raises(DevnetError):
        chain.transact(token, "transfer(address,uint256)", owner, 10**6, sender=receiver)


def test_bytes32_token_symbol(chain: DevChain, holder: str) -> None:
    token = chain.deploy("Bytes32Token", b"Maker".ljust(32, b"\0"), b"MKR".ljust(32, b"\0"), 18)
    (symbol,) = chain.call(token, "symbol()", returns=["bytes32"])
    assert symbol == b"MKR" + b"\0" * 29
    (name,) = chain.call(token, "name()", returns=["bytes32"])
    assert name.rstrip(b"\0") == b"Maker"
    chain.transact(token, "mint(address,uint256)", holder, 7)
    assert chain.call(token, "balanceOf(address)", holder, returns=["uint256"]) == (7,)


def test_reverting_token_balance_of_reverts(chain: DevChain, holder: str) -> None:
    token = chain.deploy("RevertingToken", "Broken", "BRK", 18)
    assert chain.call(token, "decimals()", returns=["uint8"]) == (18,)
    with pytest.raises(RpcError) as info:
        chain.call(token, "balanceOf(address)", holder, returns=["uint256"])
    assert "revert" in str(info.value).lower()


def test_no_decimals_token_has_no_decimals(chain: DevChain, holder: str) -> None:
    token = chain.deploy("NoDecimalsToken", "No Decimals", "NODEC")
    assert chain.call(token, "symbol()", returns=["string"]) == ("NODEC",)
    chain.transact(token, "mint(address,uint256)", holder, 5)
    assert chain.call(token, "balanceOf(address)", holder, returns=["uint256"]) == (5,)
    with pytest.raises(RpcError):
        chain.call(token, "decimals()", returns=["uint8"])


def test_nft_and_multi_token(chain: DevChain, holder: str) -> None:
    nft = chain.deploy("TestNFT", "Test NFT", "TNFT")
    chain.transact(nft, "mint(address,uint256)", holder, 1)
    chain.transact(nft, "mint(address,uint256)", holder, 2)
    assert chain.call(nft, "balanceOf(address)", holder, returns=["uint256"]) == (2,)
    (owner,) = chain.call(nft, "ownerOf(uint256)", 2, returns=["address"])
    assert to_checksum_address(owner) == holder
    with pytest.raises(DevnetError):
        chain.transact(nft, "mint(address,uint256)", holder, 1)  # already minted

    multi = chain.deploy("TestMultiToken")
    chain.transact(multi, "mint(address,uint256,uint256)", holder, 5, 40)
    assert chain.call(multi, "balanceOf(address,uint256)", holder, 5, returns=["uint256"]) == (40,)
    assert chain.call(multi, "balanceOf(address,uint256)", holder, 6, returns=["uint256"]) == (0,)


def test_multicall3_views(chain: DevChain, holder: str) -> None:
    assert chain.get_code(MULTICALL3_ADDRESS)
    chain.mine(3)
    (block,) = chain.call(MULTICALL3_ADDRESS, "getBlockNumber()", returns=["uint256"])
    assert block == chain.block_number()
    assert chain.call(MULTICALL3_ADDRESS, "getChainId()", returns=["uint256"]) == (CHAIN_ID,)
    chain.set_balance(holder, 12345)
    balance = chain.call(MULTICALL3_ADDRESS, "getEthBalance(address)", holder, returns=["uint256"])
    assert balance == (12345,)
    (ts,) = chain.call(MULTICALL3_ADDRESS, "getCurrentBlockTimestamp()", returns=["uint256"])
    assert ts > 0


def test_aggregate3_partial_failure(chain: DevChain, holder: str) -> None:
    good = chain.deploy("TestToken", "USD Coin", "USDC", 6)
    bad = chain.deploy("RevertingToken", "Broken", "BRK", 18)
    chain.transact(good, "mint(address,uint256)", holder, 42)
    calldata = encode_call("balanceOf(address)", holder)
    calls = [(bad, True, calldata), (good, True, calldata)]
    (results,) = chain.call(MULTICALL3_ADDRESS, AGGREGATE3, calls, returns=RESULTS)
    assert results[0][0] is False
    assert results[1][0] is True
    assert int.from_bytes(results[1][1], "big") == 42

    strict = [(bad, False, calldata), (good, True, calldata)]
    with pytest.raises(RpcError) as info:
        chain.call(MULTICALL3_ADDRESS, AGGREGATE3, strict, returns=RESULTS)
    assert "Multicall3: call failed" in str(info.value)


def test_snapshot_and_revert(chain: DevChain, holder: str) -> None:
    token = chain.deploy("TestToken", "Snap", "SNP", 0)
    snapshot = chain.snapshot()
    chain.transact(token, "mint(address,uint256)", holder, 9)
    assert chain.call(token, "balanceOf(address)", holder, returns=["uint256"]) == (9,)
    assert chain.revert(snapshot)
    assert chain.call(token, "balanceOf(address)", holder, returns=["uint256"]) == (0,)
