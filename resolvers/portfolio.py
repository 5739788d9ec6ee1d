"""Portfolio totals that can never be mistaken for the whole when they are partial.

Sums are exact (`core.amounts.EXACT`). What is not known is `None`: with no chain read at
all the total is unknown, not zero; `complete` is false whenever anything is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.amounts import exact_sum
from core.errors import (
    ChainError,
    DiscoveryIncomplete,
    DiscoveryTruncated,
    ServiceError,
    TokenCallFailed,
    TokenMetadataUnavailable,
)
from resolvers.account import Selection, holdings
from resolvers.history import At
from resolvers.scope import RequestScope
from resolvers.values import Valued, dust

_PARTIAL_DISCOVERY = (DiscoveryIncomplete, DiscoveryTruncated)
"""Discovery left tokens out: a total over what was found is not the whole."""


@dataclass(frozen=True)
class ChainTotal:
    chain: str
    total_usd: Decimal


@dataclass(frozen=True)
class Portfolio:
    total_usd: Decimal | None
    complete: bool
    failed_chains: list[str]
    unpriced_count: int
    updated_at: datetime | None
    by_chain: list[ChainTotal]
    priced: list[Valued] = field(default_factory=list)
    """The rows summed (for the 24h change, computed only when asked for)."""


def unknown(failed_chains: list[str] | None = None) -> Portfolio:
    """A portfolio of which nothing could be read."""
    return Portfolio(None, False, failed_chains or [], 0, None, [])


async def portfolio(
    scope: RequestScope,
    address: str,
    selection: Selection,
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
) -> tuple[Portfolio, list[ServiceError]]:
    """Sum of the USD values of the rows the filters keep.

    `complete` is false whenever a chain failed, a token could not be read, discovery did not
    finish (or kept only the most recent of too many tokens), or a held token (after the spam
    filter) has no USD value: `unpricedCount` says how many. `updatedAt` is
    the oldest read time among the values read: the total is as old as its oldest part.
    """
    held = await holdings(scope, address, selection, max_age, force_refresh, at)
    token_failures = (TokenCallFailed, TokenMetadataUnavailable)
    failed = sorted(
        {
            e.chain
            for e in held.errors
            if isinstance(e, ChainError) and not isinstance(e, token_failures) and e.chain
        }
        | set(held.unread)
    )
    if not held.answered:
        return unknown(failed), held.errors
    kept = dust(scope, held.items, selection)
    unreadable = any(isinstance(e, (*token_failures, *_PARTIAL_DISCOVERY)) for e in held.errors)
    unpriced = sum(1 for v in held.items if v.value_usd is None)
    values: dict[str, list[Decimal]] = {}
    for item in kept:
        value = item.value_usd
        if value is not None:
            values.setdefault(item.row.reading.key.chain, []).append(value)
    totals = {chain: exact_sum(parts) for chain, parts in values.items()}
    result = Portfolio(
        total_usd=exact_sum(totals.values()),
        complete=not failed and not unreadable and unpriced == 0,
        failed_chains=failed,
        unpriced_count=unpriced,
        updated_at=held.oldest_read,
        by_chain=[ChainTotal(c, t) for c, t in totals.items()],
        priced=[item for item in kept if item.value_usd is not None],
    )
    return result, held.errors
