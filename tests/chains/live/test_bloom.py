"""The logs bloom pre-filter, checked against the blooms a real node builds: it may keep
rows that did not move (false positives), never skip one that did."""

from __future__ import annotations

from chains.evm.hexdata import hex_bytes
from chains.live.bloom import may_move
from tests.conftest import Devnet


def bloom_of(devnet: Devnet, block: int) -> bytes:
    header = devnet.chain.rpc("eth_getBlockByNumber", [hex(block), False])
    bloom = hex_bytes(header["logsBloom"])
    assert bloom is not None and len(bloom) == 256
    return bloom


def test_a_transfer_s_token_and_both_parties_are_in_the_block_s_bloom(
    own_devnet: Devnet,
) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    usdc, weth = sample.token("USDC").address, sample.token("WETH").address
    sender, receiver, bystander = sample.holders[0], own_devnet.eoa, chain.accounts()[7]
    receipt = chain.transact(usdc, "transfer(address,uint256)", receiver, 1, sender=sender)
    bloom = bloom_of(own_devnet, int(receipt["blockNumber"], 16))
    assert may_move(bloom, usdc, sender)
    assert may_move(bloom, usdc, receiver)
    assert not may_move(bloom, usdc, bystander)  # (2,048 bits, six set: no collision here)
    assert not may_move(bloom, weth, sender)


def test_an_empty_block_rules_out_every_token_row(own_devnet: Devnet) -> None:
    chain, sample = own_devnet.chain, own_devnet.sample
    chain.mine(1)
    bloom = bloom_of(own_devnet, chain.block_number())
    assert bloom == bytes(256)
    assert not any(
        may_move(bloom, token.address, holder)
        for token in sample.tokens
        for holder in sample.holders
    )
