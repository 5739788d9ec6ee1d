"""`Account`, a federation entity, and the `Balance` rows it holds (one module: each type
refers to the other)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from core.errors import ServiceError
from graph.execution.context import Info
from graph.execution.direct import SERVED_FROM
from graph.schema.arguments import (
    AtBlock,
    AtTime,
    ChainId,
    ChainIds,
    Discover,
    ForceRefresh,
    IncludeSpam,
    IncludeZero,
    MaxAge,
    MinValueUsd,
    TokenAddress,
    TokenAddresses,
)
from graph.schema.discovery import DiscoveryStatus
from graph.schema.history import BalanceHistory, HistoryInterval, PortfolioPoint
from graph.schema.portfolio import Portfolio
from graph.schema.scalars import BigInt
from graph.schema.token import Token, quote_of
from resolvers import account as account_resolvers
from resolvers import balances as balance_resolvers
from resolvers import history as history_resolvers
from resolvers import portfolio as portfolio_resolvers
from resolvers import portfolio_history as portfolio_history_resolvers
from resolvers import values as value_resolvers
from resolvers.account import Selection
from resolvers.arguments import canonical_account
from resolvers.rows import BalanceRow
from resolvers.scope import Views


@strawberry.type(description="How much of one token one account holds on one chain.")
class Balance:
    chain: str = strawberry.field(description="Id of the chain the balance was read on.")
    raw_amount: BigInt = strawberry.field(
        description="The exact on-chain integer in the token's smallest unit (wei, satoshi, …)."
    )
    block_number: BigInt | None = strawberry.field(
        description="The block the value was read at; every value of one upstream call shares it."
    )
    last_updated: datetime = strawberry.field(
        description="When the value was read from the chain (not when it was served from cache)."
    )
    unconfirmed_raw_delta: BigInt | None = strawberry.field(
        description=(
            "Pending change not yet in a block (Bitcoin mempool), in the smallest unit; may be "
            "negative. Null on chains without a mempool view."
        )
    )
    token: Token = strawberry.field(description="The token, with its metadata.")
    row: strawberry.Private[BalanceRow]

    @classmethod
    def of(cls, row: BalanceRow, views: Views) -> Balance:
        """The row's object, built once while the row is the service's warm row (`Views`):
        a `Balance` is never changed after it is built, so requests may share it."""
        known: Balance | None = views.objects.get((row,))
        return known or views.objects.put((row,), cls.from_row(row))

    @classmethod
    def from_row(cls, row: BalanceRow) -> Balance:
        reading = row.reading
        return cls(
            chain=reading.key.chain,
            raw_amount=BigInt(reading.raw_amount),
            block_number=None if reading.block_number is None else BigInt(reading.block_number),
            last_updated=reading.read_at,
            unconfirmed_raw_delta=(
                None if reading.unconfirmed_delta is None else BigInt(reading.unconfirmed_delta)
            ),
            token=Token.from_meta(row.token, spam=row.spam, read_error=row.token_error),
            row=row,
        )

    @strawberry.field(description="The account holding the balance.")
    def account(self) -> Account:
        return Account(address=self.row.reading.key.account)

    @strawberry.field(
        description=(
            "`rawAmount` divided by 10^decimals, exact. Null, with a "
            "TOKEN_METADATA_UNAVAILABLE error, when the token's decimals are unknown."
        ),
        metadata={SERVED_FROM: "known_amount"},
    )
    def amount(self) -> Decimal | None:
        return balance_resolvers.amount(self.row)

    @property
    def known_amount(self) -> Decimal | None:
        """`amount` when the decimals are known (the executor serves it directly)."""
        return balance_resolvers.known_amount(self.row)

    @strawberry.field(
        description=(
            "`amount` times the token's USD price, exact (for a past read, the price at its "
            "block's time). Null when the token is unpriced or its decimals are unknown, never "
            "0 for unknown."
        )
    )
    async def value_usd(self, info: Info) -> Decimal | None:
        row = self.row
        if row.past and row.at is None:
            return None  # its block's time is unknown: unpriced, never today's price
        quote = await quote_of(info, row.reading.key.chain, row.reading.key.token, row.at)
        return value_resolvers.Valued(row, quote).value_usd


@strawberry.federation.type(
    keys=["address"],
    description=(
        "A wallet address, on every chain whose address format it fits. A federation entity: "
        "other subgraphs (say, users with wallets) reference it by `address`."
    ),
)
class Account:
    address: str = strawberry.field(
        description=(
            "The address in canonical form (EIP-55 checksummed for EVM). Through a federation "
            "gateway this key is what the referencing subgraph sent; `balances.account.address` "
            "is always canonical."
        )
    )
    invalid: strawberry.Private[ServiceError | None] = None
    """Why no chain accepts the address of an entity reference (reported by each field)."""

    @classmethod
    def resolve_reference(cls, info: Info, address: str) -> Account:
        """A reference from another subgraph: any case in, canonical form out. An address no
        chain accepts still resolves, so the referencing entity (a user with a list of
        wallets) keeps its good wallets; this one's fields report INVALID_ADDRESS."""
        try:
            return cls(address=canonical_account(info.context.scope.registry, address))
        except ServiceError as exc:
            return cls(address=address, invalid=exc)

    @strawberry.field(
        description=(
            "What the account holds. Without `tokens`: the native asset, every token in each "
            "chain's token list and, where discovery is on, every token it finds. A failed chain "
            "drops its rows and adds one error naming it; a failed token drops its row and adds "
            "an error naming it; an unfinished discovery adds DISCOVERY_INCOMPLETE."
        )
    )
    async def balances(
        self,
        info: Info,
        chains: ChainIds = None,
        tokens: TokenAddresses = None,
        include_zero: IncludeZero = False,
        min_value_usd: MinValueUsd = None,
        include_spam: IncludeSpam = False,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
        discover: Discover = None,
    ) -> list[Balance]:
        selection = Selection(
            chains, tokens, bool(include_zero), min_value_usd, bool(include_spam), discover
        )
        try:
            self._check()
            at = history_resolvers.At.of(at_block, at_time)
            rows, errors = await account_resolvers.account_balances(
                info.context.scope, self.address, selection, max_age, force_refresh, at
            )
        except ServiceError as exc:  # bad arguments: this field is empty, its siblings served
            rows, errors = [], [exc]
        for error in errors:
            info.context.report(info, error)
        views = info.context.scope.views
        return [Balance.of(row, views) for row in rows]

    @strawberry.field(
        description=(
            "USD totals of what the account holds (filters as in `balances`). `complete` is "
            "false whenever a chain failed, a token could not be read or a held token is "
            "unpriced, so a partial total can never pass for the whole."
        )
    )
    async def portfolio(
        self,
        info: Info,
        chains: ChainIds = None,
        min_value_usd: MinValueUsd = None,
        include_spam: IncludeSpam = False,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
        discover: Discover = None,
    ) -> Portfolio:
        selection = Selection(chains, None, False, min_value_usd, bool(include_spam), discover)
        try:
            self._check()
            at = history_resolvers.At.of(at_block, at_time)
            result, errors = await portfolio_resolvers.portfolio(
                info.context.scope, self.address, selection, max_age, force_refresh, at
            )
        except ServiceError as exc:  # nothing could be read: the total is unknown, not 0
            result, errors = portfolio_resolvers.unknown(), [exc]
        for error in errors:
            info.context.report(info, error)
        return Portfolio.from_domain(result)

    @strawberry.field(description="One balance of this account; null with an error if it failed.")
    async def balance(
        self,
        info: Info,
        chain: ChainId,
        token: TokenAddress,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
    ) -> Balance | None:
        self._check()
        at = history_resolvers.At.of(at_block, at_time)
        return Balance.from_row(
            await balance_resolvers.balance(
                info.context.scope, self.address, chain, token, max_age, force_refresh, at
            )
        )

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


def report_all(info: Info, outcomes: list[BalanceRow | ServiceError]) -> list[Balance | None]:
    """Balances in order, with each failed item null and its error at the item's path."""
    items: list[Balance | None] = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, ServiceError):
            info.context.report(info, outcome, index)
            items.append(None)
        else:
            items.append(Balance.of(outcome, info.context.scope.views))
    return items
