"""Ordering and paging holdings: every order, ties broken the same way every time, cursors that
name a position (not an index), and cursors that are not ours refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.errors import BadUserInput
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenMeta, TokenRef, TokenStandard
from prices.base import Quote
from resolvers.pages import BalanceOrder, page
from resolvers.rows import BalanceRow
from resolvers.values import Valued
from tests.fakes.service import ALICE

AT = datetime(2026, 12, 1, tzinfo=UTC)


def item(
    chain: str, token: str, symbol: str | None, raw: int, usd: str | None, decimals: int = 6
) -> Valued:
    ref = NATIVE_TOKEN if token == "native" else TokenRef(token)
    standard = TokenStandard.NATIVE if token == "native" else TokenStandard.ERC20
    meta = TokenMeta(chain, ref, standard, symbol, symbol, decimals)
    reading = BalanceReading(BalanceKey(chain, ALICE, ref), raw, 1, AT)
    price = None if usd is None else Quote(Decimal(usd), AT, "test")
    return Valued(BalanceRow(reading, meta), price)


A, B, C, D = (f"0x{n * 0x11:040x}" for n in range(1, 5))
ROWS = [
    item("eth", "native", "ETH", 2 * 10**6, "3000"),  # 6000
    item("eth", A, "usdc", 500 * 10**6, "1"),  # 500
    item("base", B, "AERO", 500 * 10**6, "1"),  # 500, amount 500: a tie with usdc; base < eth
    item("eth", C, None, 7 * 10**6, None),  # unpriced, amount 7
    item("base", D, "zzz", 9 * 10**6, None),  # unpriced, amount 9
    item("base", "native", "ETH", 10**6, "3000"),  # 3000
]


def names(items: list[Valued]) -> list[str]:
    return [f"{v.row.reading.key.chain}:{v.row.token.symbol}" for v in items]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            BalanceOrder.VALUE_USD_DESC,
            ["eth:ETH", "base:ETH", "base:AERO", "eth:usdc", "base:zzz", "eth:None"],
        ),
        (
            BalanceOrder.VALUE_USD_ASC,
            ["base:AERO", "eth:usdc", "base:ETH", "eth:ETH", "base:zzz", "eth:None"],
        ),
        (
            BalanceOrder.AMOUNT_DESC,
            ["base:AERO", "eth:usdc", "base:zzz", "eth:None", "eth:ETH", "base:ETH"],
        ),
        (
            BalanceOrder.SYMBOL_ASC,
            ["base:AERO", "base:ETH", "eth:ETH", "eth:usdc", "base:zzz", "eth:None"],
        ),
        (
            BalanceOrder.CHAIN,
            ["base:ETH", "base:AERO", "base:zzz", "eth:ETH", "eth:usdc", "eth:None"],
        ),
    ],
)
def test_every_order_with_its_ties_broken_by_chain_then_address(
    order: BalanceOrder, expected: list[str]
) -> None:
    found = page(ROWS, order, None, None, 500)
    assert names(found.items) == expected
    assert found.total_count == 6 and not found.has_next_page
    assert names(page(list(reversed(ROWS)), order, None, None, 500).items) == expected


def test_without_an_order_or_a_page_the_rows_keep_the_order_they_came_in() -> None:
    found = page(ROWS, None, None, None, 500)
    assert found.items == ROWS and found.end_cursor is None


def test_pages_cover_every_row_once_and_say_when_they_end() -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        found = page(ROWS, BalanceOrder.VALUE_USD_DESC, 4, cursor, 500)
        seen += names(found.items)
        cursor = found.end_cursor
        if not found.has_next_page:
            break
    assert seen == names(page(ROWS, BalanceOrder.VALUE_USD_DESC, None, None, 500).items)
    assert page(ROWS, BalanceOrder.VALUE_USD_DESC, 4, cursor, 500).items == []


def test_a_cursor_is_a_position_new_rows_elsewhere_do_not_shift_a_page() -> None:
    first = page(ROWS, BalanceOrder.VALUE_USD_DESC, 2, None, 500)
    assert names(first.items) == ["eth:ETH", "base:ETH"]
    richer = item("eth", f"0x{0xEE:040x}", "NEW", 10**6, "100000")  # sorts before the cursor
    second = page([richer, *ROWS], BalanceOrder.VALUE_USD_DESC, 2, first.end_cursor, 500)
    assert names(second.items) == ["base:AERO", "eth:usdc"]
    gone = [v for v in ROWS if v.row.token.symbol != "ETH" or v.row.reading.key.chain != "base"]
    after_gone = page(gone, BalanceOrder.VALUE_USD_DESC, 2, first.end_cursor, 500)
    assert names(after_gone.items) == ["base:AERO", "eth:usdc"]  # from where it would have been


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        "eyJ4IjoxfQ",  # {"x":1}
        page(ROWS, BalanceOrder.CHAIN, 1, None, 500).end_cursor,  # another order's
        "W1wiVkFMVUVfVVNEX0RFU0NcIixbXV0",  # the right name, no key
    ],
)
def test_a_cursor_that_is_not_ours_for_this_order_is_bad_input(cursor: str | None) -> None:
    with pytest.raises(BadUserInput, match="not a cursor of this ordering"):
        page(ROWS, BalanceOrder.VALUE_USD_DESC, 2, cursor, 500)


@pytest.mark.parametrize("first", [0, -1, 501])
def test_a_page_size_out_of_bounds_is_bad_input(first: int) -> None:
    with pytest.raises(BadUserInput, match="first must be between 1 and 500"):
        page(ROWS, BalanceOrder.CHAIN, first, None, 500)
