"""A subscription's mailbox: the newest value per row, what the subscriber last had kept as
`previous`, and a subscriber that stays behind closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chains.live.mailbox import Change, Failure, Mailbox, SlowConsumer
from core.errors import UpstreamError
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenRef

KEY = BalanceKey("eth", "0x" + "1" * 40, NATIVE_TOKEN)
OTHER = BalanceKey("eth", "0x" + "2" * 40, TokenRef("0x" + "3" * 40))


def change(key: BalanceKey, raw: int, previous: int | None, block: int) -> Change:
    return Change(BalanceReading(key, raw, block, datetime.now(UTC)), previous, block)


async def test_values_wait_in_the_order_rows_first_waited_and_collapse_per_row() -> None:
    box = Mailbox(max_pending=10)
    box.offer(change(KEY, 5, 1, 10))
    box.offer(change(OTHER, 7, 6, 10))
    box.offer(change(KEY, 9, 5, 11))  # unread: replaces the first, keeps what was had before
    events = await box.take()
    assert [(e.key, e.reading.raw_amount, e.previous, e.block) for e in events] == [  # type: ignore[union-attr]
        (KEY, 9, 1, 11),
        (OTHER, 7, 6, 10),
    ]


async def test_a_row_back_where_the_subscriber_saw_it_is_no_change() -> None:
    box = Mailbox(max_pending=10)
    box.offer(change(KEY, 5, 1, 10))
    box.offer(change(KEY, 1, 5, 11))
    box.offer(change(OTHER, 2, 3, 11))
    assert [e.key for e in await box.take()] == [OTHER]


async def test_a_first_value_stays_a_first_value_when_it_collapses() -> None:
    box = Mailbox(max_pending=10)
    box.offer(change(KEY, 5, None, 10))
    box.offer(change(KEY, 6, 5, 11))
    (event,) = await box.take()
    assert isinstance(event, Change) and event.previous is None and event.reading.raw_amount == 6


async def test_past_max_pending_collapsed_values_the_subscriber_is_behind_for_good() -> None:
    box = Mailbox(max_pending=2)
    for block in range(10, 13):  # two values replaced unread: still fine
        box.offer(change(KEY, block, block - 1, block))
    assert not box.overflowed.is_set()
    await box.take()  # caught up: the count starts again
    for block in range(13, 17):
        box.offer(change(KEY, block, block - 1, block))
    assert box.overflowed.is_set()
    with pytest.raises(SlowConsumer):
        await box.take()


async def test_failures_wait_beside_values_once_each_and_a_closed_box_ends() -> None:
    box = Mailbox(max_pending=10)
    down = UpstreamError("node down", chain="eth")
    box.offer(Failure(down))
    box.offer(Failure(down))
    box.offer(change(KEY, 1, 0, 5))
    events = await box.take()
    assert [type(e).__name__ for e in events] == ["Failure", "Change"]
    box.close()
    assert await box.take() == []
