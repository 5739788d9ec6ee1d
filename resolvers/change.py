"""24-hour change, from prices alone: no archive node, no balance read a day ago.

A token's change is its price now against its price 24 hours ago (DefiLlama's historical
endpoint, the one `portfolioHistory` uses; "24 hours ago" is taken on a 5-minute grid, so a
request's prices of a day ago are one call, fetched once and kept). A row's change in USD is
what the price movement did to its value: `amount x (price now - price 24h ago)`, exact. For a
row read at a past block, both instants move with it: its block's time, and a day before.
Anything unknown is `None`, never 0; a percent is rounded half-even to 4 decimal places.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from core.amounts import exact_product, exact_sum, scale_amount
from core.errors import PriceUnavailable
from core.models import TokenRef
from loaders.prices import DAY, GRID
from prices.base import PriceKey, PriceOutcome, Quote
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope
from resolvers.values import Valued

_PERCENT = Decimal("0.0001")


@dataclass(frozen=True)
class DayMove:
    """A price now and 24 hours before (outcomes: a quote, `None` unpriced, or an error)."""

    now: PriceOutcome
    ago: PriceOutcome

    @property
    def delta(self) -> Decimal | None:
        if isinstance(self.now, Quote) and isinstance(self.ago, Quote):
            return self.now.usd - self.ago.usd
        return None

    @property
    def percent(self) -> Decimal | None:
        if not isinstance(self.ago, Quote) or self.ago.usd == 0 or self.delta is None:
            return None
        return percent_of(self.delta, self.ago.usd)

    @property
    def errors(self) -> list[PriceUnavailable]:
        return [p for p in (self.now, self.ago) if isinstance(p, PriceUnavailable)]


def percent_of(part: Decimal, whole: Decimal) -> Decimal:
    """`part / whole` in percent, rounded half-even to 4 decimal places, however far apart
    the two are (a price of 1E-57 a day ago is a change of ~1E+59 percent, not an error)."""
    with localcontext() as context:
        context.prec = 60
        ratio = part * 100 / whole
        context.prec = max(60, ratio.adjusted() + 6)  # every digit up to the 4th decimal
        return ratio.quantize(_PERCENT, rounding=ROUND_HALF_EVEN)


async def token_move(scope: RequestScope, chain: str, token: TokenRef) -> DayMove:
    """A token's price now and a day ago (this request's "day ago")."""
    loader = scope.loaders.prices
    key = PriceKey(chain, token)
    now, ago = await asyncio.gather(loader.load(key), loader.load_past(key, loader.day_ago))
    scope.hints.priced(now.fetched)
    scope.hints.priced(ago.fetched)
    return DayMove(now.outcome, ago.outcome)


async def row_move(scope: RequestScope, row: BalanceRow) -> DayMove:
    """The price move a row's value felt: over the day before now, or before its block."""
    chain, token = row.reading.key.chain, row.reading.key.token
    if not row.past:
        return await token_move(scope, chain, token)
    if row.at is None:
        return DayMove(None, None)  # a past block of unknown time: unpriced
    loader = scope.loaders.prices
    key = PriceKey(chain, token)
    then = int(row.at.timestamp())
    now, ago = await asyncio.gather(
        loader.load_past(key, then), loader.load_past(key, (then - DAY) // GRID * GRID)
    )
    return DayMove(now.outcome, ago.outcome)


def value_change(row: BalanceRow, move: DayMove) -> Decimal | None:
    """`amount x (price now - price a day ago)`, exact; `None` when any part is unknown."""
    decimals, delta = row.token.decimals, move.delta
    if decimals is None or delta is None:
        return None
    return exact_product(scale_amount(row.reading.raw_amount, decimals), delta)


@dataclass(frozen=True)
class TotalChange:
    usd: Decimal | None
    percent: Decimal | None
    errors: list[PriceUnavailable]


async def total_change(scope: RequestScope, priced: Sequence[Valued]) -> TotalChange:
    """The 24h change of a total over `priced` rows (those with a USD value): the exact sum
    of their changes, null when any lacks a price a day ago; the percent of the total's
    value a day ago (null when that is not positive)."""
    moves = await asyncio.gather(*(row_move(scope, v.row) for v in priced))
    changes = [value_change(v.row, m) for v, m in zip(priced, moves, strict=True)]
    errors = [e for m in moves for e in m.errors]
    if any(c is None for c in changes):
        return TotalChange(None, None, errors)
    change = exact_sum(c for c in changes if c is not None)
    before = exact_sum(v.value_usd for v in priced if v.value_usd is not None) - change
    share = percent_of(change, before) if before > 0 else None
    return TotalChange(change, share, errors)
