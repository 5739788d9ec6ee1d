"""The fields of `Account` that are not about what it holds now: its past (`balanceHistory`,
`portfolioHistory`) and discovery's progress. `Account` (graph.schema.account) builds on this
base, which keeps the address, why it may be invalid, and the check every field makes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from core.errors import ServiceError
from graph.execution.context import Info
from graph.schema.arguments import ChainId, ChainIds, TokenAddress
from graph.schema.discovery import DiscoveryStatus
from graph.schema.history import BalanceHistory, HistoryInterval, PortfolioPoint
from graph.schema.scalars import BigInt
from resolvers import account as account_resolvers
from resolvers import history as history_resolvers
from resolvers import portfolio_history as portfolio_history_resolvers


@strawberry.type(description="What every Account is made of (not a type of the schema itself).")
class AccountWhole:
    address: str = strawberry.field(
        description=(
            "The address in canonical form (EIP-55 checksummed for EVM). Through a federation "
            "gateway this key is what the referencing subgraph sent; `balances.account.address` "
            "is always canonical."
        )
    )
    invalid: strawberry.Private[ServiceError | None] = None
    """Why no chain accepts the address of an entity reference (reported by each field)."""

    @strawberry.field(
        description=(
            "Every event that moved one balance, newest first, each with the balance right "
            "after it: ERC-20/721 Transfer and ERC-1155 TransferSingle/Batch logs, Starknet "
            "Transfer events, Bitcoin transactions. Native EVM assets have no events to read "
            "(HISTORY_UNAVAILABLE). What is final is read once; a repeat reads only new blocks. "
            "On failure: no events, and the error beside them."
        )
    )
    async def balance_history(
        self,
        info: Info,
        chain: ChainId,
        token: TokenAddress,
        from_block: Annotated[
            BigInt | None, strawberry.argument(description="Oldest block (default: all).")
        ] = None,
        to_block: Annotated[
            BigInt | None, strawberry.argument(description="Newest block (default: the head).")
        ] = None,
        first: Annotated[
            int, strawberry.argument(description="Events per page (at most 1,000).")
        ] = 100,
        after: Annotated[
            str | None, strawberry.argument(description="`pageInfo.endCursor` of the last page.")
        ] = None,
    ) -> BalanceHistory:
        query = history_resolvers.HistoryQuery(chain, token, from_block, to_block, first, after)
        try:
            self._check()
            page = await history_resolvers.balance_history(info.context.scope, self.address, query)
        except ServiceError as exc:  # an empty page and the error; the siblings are served
            info.context.report(info, exc)
            return BalanceHistory.empty()
        return BalanceHistory.from_domain(page)

    @strawberry.field(
        description=(
            "The USD value of the account's holdings (the native asset, each chain's token list "
            "and, where discovery is on, what it finds) at each point from `from` to `to`, "
            "every `interval`, priced at each point's time. Points beyond the limit (default "
            "400) are refused with COST_LIMIT_EXCEEDED."
        )
    )
    async def portfolio_history(
        self,
        info: Info,
        from_: Annotated[
            datetime, strawberry.argument(name="from", description="The first point.")
        ],
        to: Annotated[datetime, strawberry.argument(description="The last point at most.")],
        chains: ChainIds = None,
        interval: Annotated[
            HistoryInterval, strawberry.argument(description="The spacing of points.")
        ] = HistoryInterval.DAY,
    ) -> list[PortfolioPoint]:
        scope = info.context.scope
        step = portfolio_history_resolvers.INTERVALS[interval.name]
        try:
            self._check()
            points = portfolio_history_resolvers.instants(
                from_, to, step, scope.limits.max_history_points
            )
            values, errors = await portfolio_history_resolvers.portfolio_history(
                scope, self.address, chains, points
            )
        except ServiceError as exc:  # no points and the error; the siblings are served
            values, errors = [], [exc]
        for error in errors:
            info.context.report(info, error)
        return [PortfolioPoint.from_domain(v) for v in values]

    @strawberry.field(
        description=(
            "How far discovery got on each chain (those with discovery configured, among "
            "`chains` or every chain the address fits): blocks scanned and tokens found, for a "
            "frontend to show progress. Starts a scan where none runs; never waits for one."
        )
    )
    async def discovery(self, info: Info, chains: ChainIds = None) -> list[DiscoveryStatus]:
        try:
            self._check()
            found, errors = await account_resolvers.discovery(
                info.context.scope, self.address, chains
            )
        except ServiceError as exc:
            found, errors = [], [exc]
        for error in errors:
            info.context.report(info, error)
        return [DiscoveryStatus.from_domain(status) for status in found]

    def _check(self) -> None:
        if self.invalid is not None:
            raise self.invalid
