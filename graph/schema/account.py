"""`Account`, a federation entity, and the `Balance` rows it holds (one module: each type
refers to the other)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from core.errors import ServiceError
from graph.execution.context import Info
from graph.execution.direct import SERVED_FROM
from graph.schema.arguments import (
    After,
    AtBlock,
    AtTime,
    ChainId,
    ChainIds,
    Discover,
    First,
    ForceRefresh,
    IncludeSpam,
    IncludeZero,
    MaxAge,
    MinValueUsd,
    OrderBy,
    TokenAddress,
    TokenAddresses,
)
from graph.schema.past import AccountWhole
from graph.schema.portfolio import Portfolio
from graph.schema.scalars import BigInt
from graph.schema.token import Token, quote_of
from resolvers import account as account_resolvers
from resolvers import balances as balance_resolvers
from resolvers import change as change_resolvers
from resolvers import history as history_resolvers
from resolvers import portfolio as portfolio_resolvers
from resolvers import values as value_resolvers
from resolvers.account import Selection
from resolvers.arguments import canonical_account
from resolvers.pages import Page
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

    @strawberry.field(
        description=(
            "What price movement did to `valueUsd` over 24 hours: amount x (price now - price "
            "24 hours ago), exact (for a past read: over the day before its block). No archive "
            "node needed. Null when either price or the decimals are unknown, never 0."
        )
    )
    async def value_usd_change_24h(self, info: Info) -> Decimal | None:
        move = await change_resolvers.row_move(info.context.scope, self.row)
        for error in move.errors:
            info.context.report(info, error)
        return change_resolvers.value_change(self.row, move)


@strawberry.type(
    name="BalancesPageInfo",
    description="Where a page of balances ends (not PageInfo: a supergraph may hold Relay's).",
)
class BalancesPageInfo:
    has_next_page: bool = strawberry.field(description="Rows remain after this page.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null on an empty page."
    )


@strawberry.type(description="A page of an account's balances.")
class BalanceConnection:
    rows: list[Balance] = strawberry.field(description="This page's rows, in order.")
    page_info: BalancesPageInfo = strawberry.field(description="Paging.")
    total_count: int = strawberry.field(
        description="Rows of the whole filtered set (what survives minValueUsd, spam, zero)."
    )

    @classmethod
    def of(cls, found: Page | None, views: Views) -> BalanceConnection:
        if found is None:
            return cls(
                rows=[],
                page_info=BalancesPageInfo(has_next_page=False, end_cursor=None),
                total_count=0,
            )
        return cls(
            rows=[Balance.of(item.row, views) for item in found.items],
            page_info=BalancesPageInfo(
                has_next_page=found.has_next_page, end_cursor=found.end_cursor
            ),
            total_count=found.total_count,
        )


@strawberry.federation.type(
    keys=["address"],
    description=(
        "A wallet address, on every chain whose address format it fits. A federation entity: "
        "other subgraphs (say, users with wallets) reference it by `address`."
    ),
)
class Account(AccountWhole):
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
            "What the account holds. Without `tokens`: the native asset, the chain's own token "
            "list and, where discovery is on, every token it finds (a chain without discovery "
            "reads every token of the shipped lists instead). A failed chain drops its rows and "
            "adds one error naming it; a failed token drops its row and adds an error naming it; "
            "an unfinished discovery adds DISCOVERY_INCOMPLETE. `orderBy`, `first` and `after` "
            "order and page the filtered rows (see `balancesPage` for the page's count)."
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
        order_by: OrderBy = None,
        first: First = None,
        after: After = None,
    ) -> list[Balance]:
        selection = Selection(
            chains, tokens, bool(include_zero), min_value_usd, bool(include_spam), discover
        )
        paging = account_resolvers.Paging(order_by, first, after)
        page = await self._page(info, selection, max_age, force_refresh, at_block, at_time, paging)
        return page.rows

    @strawberry.field(
        description=(
            "`balances` a page at a time, with where the page ends and how many rows the "
            "filtered set has. A page costs the lookups of the whole set: ordering by value "
            "needs every value."
        )
    )
    async def balances_page(
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
        order_by: OrderBy = None,
        first: First = None,
        after: After = None,
    ) -> BalanceConnection:
        selection = Selection(
            chains, tokens, bool(include_zero), min_value_usd, bool(include_spam), discover
        )
        paging = account_resolvers.Paging(order_by, first, after)
        return await self._page(info, selection, max_age, force_refresh, at_block, at_time, paging)

    async def _page(
        self,
        info: Info,
        selection: Selection,
        max_age: int | None,
        force_refresh: bool | None,
        at_block: BigInt | None,
        at_time: datetime | None,
        paging: account_resolvers.Paging,
    ) -> BalanceConnection:
        try:
            self._check()
            at = history_resolvers.At.of(at_block, at_time)
            found, errors = await account_resolvers.account_page(
                info.context.scope, self.address, selection, max_age, force_refresh, at, paging
            )
        except ServiceError as exc:  # bad arguments: this field is empty, its siblings served
            found, errors = None, [exc]
        for error in errors:
            info.context.report(info, error)
        return BalanceConnection.of(found, info.context.scope.views)

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
