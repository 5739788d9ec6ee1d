"""Portfolio totals that can never be mistaken for the whole when they are partial."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from chains.errors import ChainError, ServiceError, TokenCallFailed, TokenMetadataUnavailable
from resolvers.account import Selection, holdings
from resolvers.scope import RequestScope
from resolvers.values import dust


@dataclass(frozen=True)
class ChainTotal:
    chain: str
    total_usd: Decimal


@dataclass(frozen=True)
class Portfolio:
    total_usd: Decimal
    complete: bool
    failed_chains: list[str]
    unpriced_count: int
    updated_at: datetime
    by_chain: list[ChainTotal]


async def portfolio(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
) -> tuple[Portfolio, list[ServiceError]]:
    """Sum of the USD values of the rows the filters keep.

    `complete` is false whenever a chain failed, a token could not be read, or a held token
    (after the spam filter) has no USD value: `unpricedCount` says how many. `updatedAt` is
    the oldest read time among the summed values: the total is as old as its oldest part.
    """
    held = await holdings(scope, address, selection, max_age, force_refresh)
    everything = held.items
    kept = dust(scope, everything, selection)
    token_failures = (TokenCallFailed, TokenMetadataUnavailable)
    failed = sorted(
        {
            e.chain
            for e in held.errors
            if isinstance(e, ChainError) and not isinstance(e, token_failures) and e.chain
        }
    )
    unreadable = any(isinstance(e, token_failures) for e in held.errors)
    unpriced = sum(1 for v in everything if v.value_usd is None)
    totals: dict[str, Decimal] = {}
    for item in kept:
        value = item.value_usd
        if value is not None:
            chain = item.row.reading.key.chain
            totals[chain] = totals.get(chain, Decimal(0)) + value
    read_times = [v.row.reading.read_at for v in kept]
    result = Portfolio(
        total_usd=sum(totals.values(), Decimal(0)),
        complete=not failed and not unreadable and unpriced == 0,
        failed_chains=failed,
        unpriced_count=unpriced,
        updated_at=min(read_times) if read_times else datetime.now(UTC),
        by_chain=[ChainTotal(c, t) for c, t in totals.items()],
    )
    return result, held.errors
