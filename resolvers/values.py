"""USD values, the dust filter and spam flags, with ChainKit's semantics.

`minValueUsd` omitted hides non-native tokens that are unpriced or worth zero; `0` keeps
everything; `N > 0` drops tokens worth less than N. The native asset is always kept. Two
cases keep a row the filter cannot judge, because hiding it would be a guess: a price source
that failed (the row stays, with one PRICE_UNAVAILABLE error), and a service with no price
source at all. Rows of tokens the caller named in `tokens:` are only dust-filtered when
`minValueUsd` is given explicitly: you asked for them, you get them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from chains.amounts import scale_amount
from chains.errors import BadUserInput, PriceUnavailable
from chains.models import TokenRef
from prices.base import PriceKey, PriceOutcome, Quote
from resolvers.balances import BalanceRow, Selection
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
        return scale_amount(self.row.reading.raw_amount, decimals) * self.price.usd

    @property
    def error(self) -> PriceUnavailable | None:
        return self.price if isinstance(self.price, PriceUnavailable) else None


def price_key(row: BalanceRow) -> PriceKey:
    return PriceKey(row.reading.key.chain, row.reading.key.token)


async def price(scope: RequestScope, chain: str, token: TokenRef) -> PriceOutcome:
    scope.priced = True
    return await scope.loaders.prices.load(PriceKey(chain, token))


async def valued(scope: RequestScope, rows: list[BalanceRow]) -> list[Valued]:
    scope.priced = True
    prices = await scope.loaders.prices.load_many([price_key(r) for r in rows])
    return [Valued(row, p) for row, p in zip(rows, prices, strict=True)]


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


def dust(scope: RequestScope, items: list[Valued], selection: Selection) -> list[Valued]:
    """The items the dust filter keeps."""
    if selection.min_value_usd is not None and selection.min_value_usd < 0:
        raise BadUserInput(f"minValueUsd must be zero or more, got {selection.min_value_usd}")
    judging = scope.loaders.prices.enabled and (
        selection.min_value_usd is not None or selection.tokens is None
    )
    if not judging:
        return items
    return [v for v in items if _keeps(v, selection.min_value_usd)]


async def dust_filter(
    scope: RequestScope, rows: list[BalanceRow], selection: Selection
) -> tuple[list[Valued], list[PriceUnavailable]]:
    """The rows the dust filter keeps (valued), and the price errors met on the way."""
    items, errors = await valuation(scope, rows)
    return dust(scope, items, selection), errors


def _keeps(item: Valued, floor: Decimal | None) -> bool:
    if item.row.reading.key.token.is_native or item.error is not None:
        return True
    value = item.value_usd
    if floor is None:
        return value is not None and value > 0
    return floor == 0 or (value is not None and value >= floor)
