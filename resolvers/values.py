"""USD values, the dust filter and spam flags, with ChainKit's semantics.

`minValueUsd` omitted hides non-native tokens that are unpriced or worth zero; `0` keeps
everything; `N > 0` drops tokens worth less than N. The native asset is always kept. Two
cases keep a row the filter cannot judge, because hiding it would be a guess: a price source
that failed (the row stays, with one PRICE_UNAVAILABLE error), and a service with no price
source at all. Rows of tokens the caller named in `tokens:` are only dust-filtered when
`minValueUsd` is given explicitly: you asked for them, you get them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from core.amounts import exact_product, scale_amount
from core.errors import PriceUnavailable
from core.models import TokenRef
from prices.base import PriceKey, PriceOutcome, Quote
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope


@dataclass(frozen=True)
class Valued:
    """A row with its price lookup's outcome."""

    row: BalanceRow
    price: PriceOutcome

    @property
    def value_usd(self) -> Decimal | None:
        """amount times price, exact; `None` when unpriced or the decimals are unknown."""
        decimals = self.row.token.decimals
        if not isinstance(self.price, Quote) or decimals is None:
            return None
        return exact_product(scale_amount(self.row.reading.raw_amount, decimals), self.price.usd)

    @property
    def error(self) -> PriceUnavailable | None:
        return self.price if isinstance(self.price, PriceUnavailable) else None


def price_key(row: BalanceRow) -> PriceKey:
    return PriceKey(row.reading.key.chain, row.reading.key.token)


async def price(
    scope: RequestScope, chain: str, token: TokenRef, at: datetime | None = None
) -> PriceOutcome:
    """The token's price now, or at `at`."""
    loader = scope.loaders.prices
    key = PriceKey(chain, token)
    priced = await loader.load(key) if at is None else (await loader.load_at([key], at))[0]
    scope.hints.priced(priced.fetched)
    return priced.outcome


async def valued(scope: RequestScope, rows: list[BalanceRow]) -> list[Valued]:
    """Each row with its price: now, or for a past read at its block's time."""
    groups: dict[datetime | None, list[int]] = {}
    found: dict[int, PriceOutcome] = {}
    for index, row in enumerate(rows):
        if row.past and row.at is None:
            found[index] = None  # its block's time is unknown: unpriced, never today's price
        else:
            groups.setdefault(row.at, []).append(index)
    loader = scope.loaders.prices
    for at, indexes in groups.items():
        keys = [price_key(rows[i]) for i in indexes]
        prices = await (loader.load_many(keys) if at is None else loader.load_at(keys, at))
        for index, priced in zip(indexes, prices, strict=True):
            scope.hints.priced(priced.fetched)
            found[index] = priced.outcome
    return [Valued(row, found[i]) for i, row in enumerate(rows)]


async def valuation(
    scope: RequestScope, rows: list[BalanceRow]
) -> tuple[list[Valued], list[PriceUnavailable]]:
    """Every row with its price (none when no price source is configured), and the price
    errors met, each once."""
    if not scope.loaders.prices.enabled:
        return [Valued(r, None) for r in rows], []
    items = await valued(scope, rows)
    errors = list({id(v.error): v.error for v in items if v.error is not None}.values())
    return items, errors


class DustSelection(Protocol):
    """What the dust filter needs to know of a selection."""

    @property
    def min_value_usd(self) -> Decimal | None: ...

    @property
    def tokens(self) -> Sequence[str] | None: ...


def dust(scope: RequestScope, items: list[Valued], selection: DustSelection) -> list[Valued]:
    """The items the dust filter keeps (`minValueUsd` is already checked non-negative)."""
    judging = scope.loaders.prices.enabled and (
        selection.min_value_usd is not None or selection.tokens is None
    )
    if not judging:
        return items
    return [v for v in items if _keeps(v, selection.min_value_usd)]


def _keeps(item: Valued, floor: Decimal | None) -> bool:
    if item.row.reading.key.token.is_native or item.error is not None:
        return True
    value = item.value_usd
    if floor is None:
        return value is not None and value > 0
    return floor == 0 or (value is not None and value >= floor)
