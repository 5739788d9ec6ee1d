"""Starknet discovery against the spec-shaped node: `Transfer`s to the account, any contract,
Cairo 1 layout only; pages followed; what the node should not send is refused."""

from __future__ import annotations

import pytest

from chains.history.spans import AdaptiveSpan
from chains.starknet.addresses import normalize_address
from chains.starknet.discovery import StarknetEventDiscovery
from core.errors import UpstreamError
from core.models import TokenRef
from tests.fakes import starknet as stark
from tests.fakes.starknet import Transfer, connect

OTHER_TOKEN = "0x0" + "7" * 63


def ref(address: str) -> TokenRef:
    return TokenRef(normalize_address(address))


def transfers() -> list[Transfer]:
    return [
        Transfer(stark.TOKEN, 10, stark.BOB, stark.ALICE, 5),
        Transfer(OTHER_TOKEN, 30, stark.BOB, stark.ALICE, 7),
        Transfer(OTHER_TOKEN, 40, stark.ALICE, stark.BOB, 7),  # sent away: from, not to
        Transfer(stark.LEGACY, 20, stark.BOB, stark.ALICE, 9, legacy=True),  # list-only
        Transfer(stark.TOKEN, 45, stark.ALICE, stark.BOB, 1),
    ]


async def test_transfers_to_the_account_name_its_tokens_with_their_last_block() -> None:
    node = stark.mainnet()
    node.block, node.transfers = 50, transfers()
    async with connect(node) as h:
        source = StarknetEventDiscovery(
            stark.CHAIN, h.provider._rpc, AdaptiveSpan(1_000, 1_000), normalize_address_token
        )
        chunk = await source.scan(stark.ALICE, 0, 50, downward=True)
    assert (chunk.start, chunk.end) == (0, 50)
    assert chunk.seen == {ref(stark.TOKEN): 10, ref(OTHER_TOKEN): 30}
    (query,) = node.singles[0]["params"]
    assert "address" not in query
    assert [int(k, 16) for k in query["keys"][2]] == [int(stark.ALICE, 16)]


async def test_pages_are_followed_and_spans_respected() -> None:
    node = stark.mainnet()
    node.block = 5_000
    node.transfers = [
        Transfer(f"0x{n + 1:064x}", n, stark.BOB, stark.ALICE, 1) for n in range(2_500)
    ]
    async with connect(node) as h:
        source = StarknetEventDiscovery(
            stark.CHAIN, h.provider._rpc, AdaptiveSpan(3_000, 3_000), normalize_address_token
        )
        chunk = await source.scan(stark.ALICE, 0, 4_999, downward=True)
    assert (chunk.start, chunk.end) == (2_000, 4_999)
    assert len(chunk.seen) == 500
    assert len(node.singles) == 1
    node.singles.clear()
    async with connect(node) as h:
        source = StarknetEventDiscovery(
            stark.CHAIN, h.provider._rpc, AdaptiveSpan(3_000, 3_000), normalize_address_token
        )
        chunk = await source.scan(stark.ALICE, 0, 2_999, downward=False)
    assert len(chunk.seen) == 2_500 and len(node.singles) == 3  # pages of 1,000


@pytest.mark.parametrize(
    "lie", [{"keys": ["0x1"]}, {"block_number": 999}, {"from_address": "0xzz"}]
)
async def test_events_that_are_not_the_transfer_asked_for_are_refused(
    lie: dict[str, object],
) -> None:
    node = stark.mainnet()
    node.block, node.transfers = 50, transfers()[:1]
    original = node._event

    def lying(transfer: Transfer) -> dict[str, object]:
        return {**original(transfer), **lie}

    node._event = lying  # type: ignore[method-assign]
    async with connect(node) as h:
        source = StarknetEventDiscovery(
            stark.CHAIN, h.provider._rpc, AdaptiveSpan(1_000, 1_000), normalize_address_token
        )
        with pytest.raises(UpstreamError):
            await source.scan(stark.ALICE, 0, 50, downward=True)


def normalize_address_token(text: str) -> TokenRef:
    return TokenRef(normalize_address(text))
