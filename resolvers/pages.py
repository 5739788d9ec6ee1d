"""Holdings as portfolio apps show them: in an order, a page at a time.

An order is a sort key per row; ties always break by chain id, then token address (and
ERC-1155 id), so the same rows always come in the same order. A cursor is the key of a page's
last row, not an index: the next page is the rows whose key comes after it, so rows that
appear or disappear elsewhere never shift a page, and a page whose cursor's row is gone
simply starts where that row would have been. Cursors are opaque (base64 of the key) and
checked: one of another order, or malformed, is `BAD_USER_INPUT` (a well-formed one made
by hand only names a position: it grants nothing).

Filters (`minValueUsd`, `includeSpam`, `includeZero`) are applied before ordering, and the
whole filtered set is ordered: ordering by value needs every value.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from core.amounts import scale_amount
from core.errors import BadUserInput
from resolvers.values import Valued

Key = tuple[int | str | Decimal, ...]


class BalanceOrder(Enum):
    """How `Account.balances` and `balancesPage` order their rows."""

    VALUE_USD_DESC = "VALUE_USD_DESC"
    VALUE_USD_ASC = "VALUE_USD_ASC"
    AMOUNT_DESC = "AMOUNT_DESC"
    SYMBOL_ASC = "SYMBOL_ASC"
    CHAIN = "CHAIN"


@dataclass(frozen=True)
class Page:
    """One page of rows, where it ends, and how many rows the whole filtered set has."""

    items: list[Valued]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def page(
    items: Sequence[Valued],
    order: BalanceOrder | None,
    first: int | None,
    after: str | None,
    max_first: int,
) -> Page:
    """The page of `items` (already filtered) that `order`, `first` and `after` ask for.
    Without any of them: every item in the order they came (today's order). Paging needs an
    order a cursor can name: without `order`, a paged call is ordered by `CHAIN`."""
    if first is not None and not 1 <= first <= max_first:
        raise BadUserInput(f"first must be between 1 and {max_first}, got {first}")
    if order is None and first is None and after is None:
        return Page(list(items), False, None, len(items))
    by = order or BalanceOrder.CHAIN
    key = KEYS[by]
    ranked = sorted(items, key=key)
    start = 0
    if after is not None:
        mark = _decode(after, by)
        start = next((i for i, v in enumerate(ranked) if key(v) > mark), len(ranked))
    end = len(ranked) if first is None else min(len(ranked), start + first)
    chosen = ranked[start:end]
    cursor = _encode(by, key(chosen[-1])) if chosen else None
    return Page(chosen, end < len(ranked), cursor, len(ranked))


def _amount(item: Valued) -> Decimal | None:
    decimals = item.row.token.decimals
    raw = item.row.reading.raw_amount
    return None if decimals is None else scale_amount(raw, decimals)


def _ties(item: Valued) -> Key:
    token = item.row.reading.key.token
    address = "" if token.is_native else token.contract.lower()  # the native asset first
    return (item.row.reading.key.chain, address, -1 if token.token_id is None else token.token_id)


def _known(value: Decimal | None) -> int:
    """0 for a known value, 1 for unknown: unknown values come last, either way."""
    return 0 if value is not None else 1


_ZERO = Decimal(0)


def _value_desc(item: Valued) -> Key:
    value, amount = item.value_usd, _amount(item)
    return (_known(value), -(value or _ZERO), _known(amount), -(amount or _ZERO), *_ties(item))


def _value_asc(item: Valued) -> Key:
    value, amount = item.value_usd, _amount(item)
    return (_known(value), value or _ZERO, _known(amount), -(amount or _ZERO), *_ties(item))


def _amount_desc(item: Valued) -> Key:
    amount = _amount(item)
    return (_known(amount), -(amount or _ZERO), *_ties(item))


def _symbol_asc(item: Valued) -> Key:
    symbol = item.row.token.symbol
    return (1 if symbol is None else 0, (symbol or "").casefold(), *_ties(item))


def _chain(item: Valued) -> Key:
    return _ties(item)


KEYS: dict[BalanceOrder, Callable[[Valued], Key]] = {
    BalanceOrder.VALUE_USD_DESC: _value_desc,
    BalanceOrder.VALUE_USD_ASC: _value_asc,
    BalanceOrder.AMOUNT_DESC: _amount_desc,
    BalanceOrder.SYMBOL_ASC: _symbol_asc,
    BalanceOrder.CHAIN: _chain,
}


def _encode(order: BalanceOrder, key: Key) -> str:
    parts: list[list[str]] = []
    for part in key:
        if isinstance(part, Decimal):
            parts.append(["d", str(part)])
        elif isinstance(part, int):
            parts.append(["i", str(part)])
        else:
            parts.append(["s", part])
    text = json.dumps([order.value, parts], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, order: BalanceOrder) -> Key:
    """The key a cursor names, or `BadUserInput` for one that is not ours for `order`."""
    refused = BadUserInput("after is not a cursor of this ordering (pass pageInfo.endCursor)")
    if len(cursor) > 2_048:
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, parts = json.loads(text)
        if name != order.value or not isinstance(parts, list):
            raise refused
        key = tuple(_part(p) for p in parts)
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError):
        raise refused from None
    if [type(p) for p in key] != _shape(order):
        raise refused
    return key


def _part(raw: Any) -> int | str | Decimal:
    kind, text = raw
    if not isinstance(text, str) or len(text) > 200:
        raise ValueError("a malformed cursor part")
    if kind == "d":
        value = Decimal(text)
        if not value.is_finite():
            raise ValueError("a malformed cursor number")
        return value
    if kind == "i":
        return int(text)
    if kind == "s":
        return text
    raise ValueError("a malformed cursor part")


_SHAPES: dict[BalanceOrder, list[type]] = {
    BalanceOrder.VALUE_USD_DESC: [int, Decimal, int, Decimal],
    BalanceOrder.VALUE_USD_ASC: [int, Decimal, int, Decimal],
    BalanceOrder.AMOUNT_DESC: [int, Decimal],
    BalanceOrder.SYMBOL_ASC: [int, str],
    BalanceOrder.CHAIN: [],
}
"""The types of each order's key before the ties (chain, address, id)."""


def _shape(order: BalanceOrder) -> list[type]:
    return [*_SHAPES[order], str, str, int]
