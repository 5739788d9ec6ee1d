"""Portfolio totals as GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.execution.context import Info
from resolvers import change as change_resolvers
from resolvers import portfolio as portfolio_resolvers
from resolvers.values import Valued


@strawberry.type(description="The USD value of one chain's part of a portfolio.")
class ChainTotal:
    chain: str = strawberry.field(description="Chain id.")
    total_usd: Decimal = strawberry.field(description="Sum of the priced rows on this chain.")


@strawberry.type(description="An account's total USD value, honest about what it leaves out.")
class Portfolio:
    total_usd: Decimal | None = strawberry.field(
        description=(
            "Exact sum of every priced row kept; null when nothing could be read (every chain "
            "failed, or the address fits none), never 0 for unknown."
        )
    )
    complete: bool = strawberry.field(
        description="False when a chain failed, a token was unreadable or a held token unpriced."
    )
    failed_chains: list[str] = strawberry.field(description="Chains whose nodes failed.")
    unpriced_count: int = strawberry.field(
        description="Held (non-spam) tokens without a USD value, so not in the total."
    )
    updated_at: datetime | None = strawberry.field(
        description="The oldest read time among the values summed; null when none were read."
    )
    by_chain: list[ChainTotal] = strawberry.field(description="Totals per chain that answered.")
    priced: strawberry.Private[list[Valued]]

    @strawberry.field(
        description=(
            "The total's change over 24 hours from price movement alone: the exact sum of "
            "each summed row's `valueUsdChange24h`. Null when a summed row has no price a "
            "day ago (or nothing was read), never 0 for unknown."
        )
    )
    async def change_24h_usd(self, info: Info) -> Decimal | None:
        return (await self._change(info)).usd

    @strawberry.field(
        description=(
            "`change24hUsd` in percent of the total's value a day ago (rounded to 4 decimal "
            "places); null when unknown."
        )
    )
    async def change_24h_percent(self, info: Info) -> Decimal | None:
        return (await self._change(info)).percent

    async def _change(self, info: Info) -> change_resolvers.TotalChange:
        if self.total_usd is None:
            return change_resolvers.TotalChange(None, None, [])
        change = await change_resolvers.total_change(info.context.scope, self.priced)
        for error in change.errors:
            info.context.report(info, error)
        return change

    @classmethod
    def from_domain(cls, result: portfolio_resolvers.Portfolio) -> Portfolio:
        return cls(
            total_usd=result.total_usd,
            complete=result.complete,
            failed_chains=result.failed_chains,
            unpriced_count=result.unpriced_count,
            updated_at=result.updated_at,
            by_chain=[ChainTotal(chain=c.chain, total_usd=c.total_usd) for c in result.by_chain],
            priced=result.priced,
        )
