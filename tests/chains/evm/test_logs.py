"""Transfer logs decoded strictly: exact deltas, each log once, garbage refused."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode

from chains.evm.logs import TRANSFER, TRANSFER_BATCH, TRANSFER_SINGLE, Filters
from core.errors import UpstreamError
from core.models import TokenRef

TOKEN = "0x" + "11" * 20
ME = "0x" + "aa" * 20
YOU = "0x" + "bb" * 20
ZERO = "0x" + "00" * 20


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def log(
    topics: list[str], data: bytes, block: int = 10, index: int = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "address": TOKEN,
        "topics": topics,
        "data": "0x" + data.hex(),
        "blockNumber": hex(block),
        "logIndex": hex(index),
        "transactionHash": "0x" + f"{block:02x}{index:02x}" * 16,
        "removed": False,
        **extra,
    }


def erc20(sender: str, receiver: str, value: int, **kw: Any) -> dict[str, Any]:
    return log([TRANSFER, topic(sender), topic(receiver)], value.to_bytes(32, "big"), **kw)


FUNGIBLE = Filters(TOKEN, ME, TokenRef(TOKEN))
SEVEN = Filters(TOKEN, ME, TokenRef(TOKEN, 7))


def test_both_filters_ask_for_the_account_as_sender_and_as_receiver() -> None:
    sent, received = FUNGIBLE.params(5, 9)
    assert sent["topics"] == [TRANSFER, topic(ME)] and received["topics"] == [
        TRANSFER,
        None,
        topic(ME),
    ]
    assert (sent["fromBlock"], sent["toBlock"]) == ("0x5", "0x9")
    single, batch = SEVEN.params(1, 2)
    assert single["topics"][0] == [TRANSFER_SINGLE, TRANSFER_BATCH] and batch["topics"][3] == topic(
        ME
    )


def test_deltas_are_signed_exact_and_a_self_transfer_is_one_movement_of_zero() -> None:
    big = 2**256 - 1
    sent = [erc20(ME, YOU, 5, index=1), erc20(ME, ME, 9, index=2, block=11)]
    received = [erc20(ZERO, ME, big, index=0), erc20(ME, ME, 9, index=2, block=11)]
    moves = FUNGIBLE.movements("c", [sent, received], 0, 20)
    assert [(m.block_number, m.order, m.delta) for m in moves] == [
        (10, 0, big),
        (10, 1, -5),
        (11, 2, 0),
    ]


def test_erc721_logs_move_one_token_each() -> None:
    nft = log([TRANSFER, topic(YOU), topic(ME), "0x" + "00" * 31 + "07"], b"")
    (move,) = FUNGIBLE.movements("c", [[nft], []], 0, 20)
    assert move.delta == 1


def test_erc1155_single_and_batch_count_only_the_asked_id() -> None:
    single = log(
        [TRANSFER_SINGLE, topic(YOU), topic(ZERO), topic(ME)],
        encode(["uint256", "uint256"], [7, 40]),
    )
    other = log(
        [TRANSFER_SINGLE, topic(YOU), topic(ZERO), topic(ME)],
        encode(["uint256", "uint256"], [8, 1]),
        index=1,
    )
    batch = log(
        [TRANSFER_BATCH, topic(ME), topic(ME), topic(YOU)],
        encode(["uint256[]", "uint256[]"], [[8, 7, 7], [3, 2, 1]]),
        index=2,
    )
    moves = SEVEN.movements("c", [[batch], [single, other]], 0, 20)
    assert [(m.order, m.delta) for m in moves] == [(0, 40), (2, -3)]


def test_a_removed_log_is_skipped() -> None:
    assert FUNGIBLE.movements("c", [[erc20(ME, YOU, 5, removed=True)], []], 0, 20) == []


@pytest.mark.parametrize(
    "garbage",
    [
        {**erc20(ME, YOU, 5), "address": "0x" + "22" * 20},  # another contract
        {**erc20(ME, YOU, 5), "blockNumber": hex(99)},  # outside the range asked
        {**erc20(ME, YOU, 5), "transactionHash": "0x12"},
        {**erc20(ME, YOU, 5), "data": "0x" + "00" * 31},  # a short value
        {**erc20(ME, YOU, 5), "topics": [TRANSFER, topic(ME)]},
        {**erc20(ME, YOU, 5), "logIndex": None},
        log([TRANSFER_SINGLE, topic(YOU), topic(ZERO), topic(ME)], b"\x00" * 10),
        "not a log",
        # Issue 18, defect 7: neither sender nor receiver is the account (the filters asked
        # for it as one of them), which was taken as a movement of 0.
        erc20(YOU, ZERO, 5),
        log(  # the account as the operator only
            [TRANSFER_SINGLE, topic(ME), topic(YOU), topic(ZERO)],
            encode(["uint256", "uint256"], [7, 1]),
        ),
    ],
)
def test_malformed_logs_are_node_trouble_never_a_guess(garbage: Any) -> None:
    filters = (
        SEVEN if isinstance(garbage, dict) and garbage["topics"][0] == TRANSFER_SINGLE else FUNGIBLE
    )
    with pytest.raises(UpstreamError):
        filters.movements("c", [[garbage], []], 0, 20)


def test_a_batch_with_a_lying_length_is_refused() -> None:
    data = bytearray(encode(["uint256[]", "uint256[]"], [[7], [1]]))
    data[64 + 31] = 200  # ids claims 200 entries
    lying = log([TRANSFER_BATCH, topic(ME), topic(ME), topic(YOU)], bytes(data))
    with pytest.raises(UpstreamError):
        SEVEN.movements("c", [[lying], []], 0, 20)
