"""Starknet history against a spec-shaped node: Transfer events in both layouts, paged;
headers in one batch; the deployment block; balances at a block; lying nodes refused."""

from __future__ import annotations

import pytest

from chains.starknet.provider import ETH_ADDRESS
from core.errors import UpstreamError
from core.models import TokenRef
from tests.fakes import starknet as stark
from tests.fakes.starknet import BLOCK_TIME, GENESIS_TIME, Transfer, connect

CAROL = "0x" + "0c" * 31


def life(legacy: bool) -> list[Transfer]:
    """ALICE: minted 100, sends 30 to BOB, gets 5 back, sends 7 to herself; BOB <-> CAROL."""
    zero = "0x0"
    token = stark.TOKEN
    return [
        Transfer(token, 10, zero, stark.ALICE, 100, legacy),
        Transfer(token, 12, stark.BOB, CAROL, 9, legacy),
        Transfer(token, 20, stark.ALICE, stark.BOB, 30, legacy),
        Transfer(token, 20, stark.BOB, stark.ALICE, 5, legacy),
        Transfer(token, 33, stark.ALICE, stark.ALICE, 7, legacy),
        Transfer(ETH_ADDRESS, 21, stark.ALICE, stark.BOB, 1, legacy),  # another token
    ]


@pytest.mark.parametrize("legacy", [False, True], ids=["cairo1-keys", "legacy-data"])
async def test_the_timeline_is_exact_in_both_event_layouts(legacy: bool) -> None:
    node = stark.mainnet()
    node.block, node.transfers = 50, life(legacy)
    async with connect(node) as h:
        moves = await h.history.movements(stark.ALICE, TokenRef(stark.TOKEN), 0, 50)
    assert [(m.block_number, m.order, m.delta) for m in moves] == [
        (10, 0, 100),
        (20, 0, -30),
        (20, 1, 5),
        (33, 0, 0),
    ]
    assert moves[0].transaction_hash == "0x" + f"{10**9 + 10:064x}"
    assert all(m.log_index is None for m in moves)


async def test_a_range_only_reads_its_blocks_and_pages_follow_the_continuation() -> None:
    node = stark.mainnet()
    node.block = 3_000
    node.transfers = [Transfer(stark.TOKEN, b, stark.BOB, stark.ALICE, 1) for b in range(2_500)]
    async with connect(node) as h:
        moves = await h.history.movements(stark.ALICE, TokenRef(stark.TOKEN), 100, 2_299)
        assert len(moves) == 2_200 and moves[0].block_number == 100
        assert len(node.singles) == 3  # 1,000 events a page
        assert h.metrics.upstream_requests.get(chain=stark.CHAIN, method="starknet_getEvents") == 3


async def test_headers_are_one_batch_and_the_deployment_is_found_in_a_few() -> None:
    node = stark.mainnet()
    node.block = 1_000_000
    node.deployed = {stark.TOKEN: 654_321}
    async with connect(node) as h:
        times = await h.history.block_times([5, 77, 999_999])
        assert times == {b: GENESIS_TIME + BLOCK_TIME * b for b in (5, 77, 999_999)}
        assert len(node.batches) == 1
        batches = len(node.batches)
        assert await h.history.first_block(TokenRef(stark.TOKEN)) == 654_321
        assert len(node.batches) - batches <= 7  # 15 probes a round: log16(1e6) + the head


async def test_balances_at_a_block_are_the_sum_of_the_events_up_to_it() -> None:
    node = stark.mainnet()
    node.block, node.transfers = 50, life(False)
    async with connect(node) as h:
        key = stark.key(stark.ALICE, stark.TOKEN)
        for block, expected in ((9, 0), (10, 100), (20, 75), (40, 75)):
            (reading,) = await h.history.balances_at([key], block)
            assert not isinstance(reading, Exception)
            assert (reading.raw_amount, reading.block_number) == (expected, block)
        sent = node.batches[-1][0]["params"][1]
        assert sent == {"block_number": 40}


async def test_a_node_that_never_ends_is_node_trouble_not_a_loop() -> None:
    node = stark.mainnet()
    node.block, node.transfers, node.continuation = 50, life(False), "again"
    async with connect(node) as h:
        with pytest.raises(UpstreamError, match="continuation"):
            await h.history.movements(stark.ALICE, TokenRef(stark.TOKEN), 0, 50)
        assert len(node.singles) <= 2


@pytest.mark.parametrize(
    "lie",
    [
        {"from_address": ETH_ADDRESS},  # another contract's event
        {"block_number": 999},  # outside the range asked
        {"keys": ["0x1"]},  # not Transfer
        {"data": ["0x1", hex(2**128)]},  # a limb beyond u128
        {"transaction_hash": "0xzz"},
    ],
)
async def test_malformed_events_are_refused(lie: dict[str, object]) -> None:
    node = stark.mainnet()
    node.block, node.transfers = 50, life(False)[:1]
    original = node._event

    def lying(transfer: Transfer) -> dict[str, object]:
        return {**original(transfer), **lie}

    node._event = lying  # type: ignore[method-assign]
    async with connect(node) as h:
        with pytest.raises(UpstreamError):
            await h.history.movements(stark.ALICE, TokenRef(stark.TOKEN), 0, 50)
