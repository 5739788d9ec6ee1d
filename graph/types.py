"""GraphQL object types. They hold values and delegate loading to `resolvers`; no I/O here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from chains.errors import ChainError, ServiceError
from chains.models import TokenMeta, TokenRef
from chains.registry import Chain as DomainChain
from graph.arguments import AtBlock, AtTime, ForceRefresh, IncludeSpam, MaxAge, MinValueUsd
from graph.context import Info
from graph.enums import ChainFamily, TokenStandard
from graph.executor import SERVED_FROM
from graph.history import BalanceHistory, HistoryInterval, PortfolioPoint
from graph.portfolio import Portfolio
from graph.scalars import BigInt
from prices.base import Quote
from resolvers import account as account_resolvers
from resolvers import balances as balance_resolvers
from resolvers import history as history_resolvers
from resolvers import portfolio as portfolio_resolvers
from resolvers import portfolio_history as portfolio_history_resolvers
from resolvers import tokens as token_resolvers
from resolvers import values as value_resolvers
from resolvers.account import Selection
from resolvers.arguments import canonical_account
from resolvers.balances import BalanceRow
from resolvers.scope import Views


@strawberry.federation.type(
    keys=["chain address tokenId"],
    description=(
        "A fungible or non-fungible token, or a chain's native asset (address `native`). A "
        "federation entity: other subgraphs reference it by `chain`, `address` and `tokenId` "
        "(null except for one id of an ERC-1155 contract)."
    ),
)
class Token:
    chain: str = strawberry.field(
        description="Id of the chain the token lives on, e.g. `ethereum`."
    )
    address: str = strawberry.field(
        description="Contract address (EIP-55 checksummed on EVM chains), or `native`."
    )
    token_id: BigInt | None = strawberry.field(
        description="The ERC-1155 token id, for a balance of one id of a multi-token contract."
    )
    standard: TokenStandard = strawberry.field(description="The token standard.")
    symbol: str | None = strawberry.field(description="Ticker, e.g. `USDC`; null when unknown.")
    name: str | None = strawberry.field(description="Human-readable name; null when unknown.")
    raw_decimals: strawberry.Private[int | None]
    logo: str | None = strawberry.field(description="Logo URL from the token list, when known.")
    is_spam: bool = strawberry.field(
        description=(
            "Flagged as spam: tagged so in the token list, on the operator's deny list, or an "
            "unlisted token whose name or symbol advertises a URL or a claim/airdrop bait."
        )
    )
    key: strawberry.Private[TokenRef]
    unknown: strawberry.Private[ServiceError | None] = None
    """Why `decimals` is null, reported with it."""

    @strawberry.field(
        description=(
            "Decimals turning `rawAmount` into `amount`. Null, never guessed, when unknown, "
            "with a TOKEN_METADATA_UNAVAILABLE error saying why (retryable when the chain's "
            "answer was garbled rather than missing)."
        ),
        metadata={SERVED_FROM: "raw_decimals"},
    )
    def decimals(self, info: Info) -> int | None:
        if self.raw_decimals is None and self.unknown is not None:
            info.context.report(info, self.unknown)
        return self.raw_decimals

    @classmethod
    def from_meta(
        cls, meta: TokenMeta, *, spam: bool = False, read_error: ChainError | None = None
    ) -> Token:
        token_id = meta.token_id
        return cls(
            chain=meta.chain,
            address=meta.contract,
            token_id=None if token_id is None else BigInt(token_id),
            standard=meta.standard,
            symbol=meta.symbol,
            name=meta.name,
            raw_decimals=meta.decimals,
            unknown=balance_resolvers.unknown_decimals(meta, read_error),
            logo=meta.logo,
            is_spam=spam,
            key=meta.token,
        )

    @classmethod
    async def resolve_reference(
        cls,
        info: Info,
        chain: str,
        address: str,
        tokenId: str | int | None = None,
    ) -> Token:
        """An entity reference from the gateway, loaded through the per-request loaders, so
        many references cost one batch per chain."""
        text = address if tokenId is None else f"{address}:{tokenId}"
        meta, spam = await token_resolvers.token(info.context.scope, chain, text)
        return cls.from_meta(meta, spam=spam)

    @strawberry.field(
        description=(
            "USD price per whole token; null when no price source knows it (or with a "
            "PRICE_UNAVAILABLE error when a source failed). Never 0 for unknown."
        )
    )
    async def price_usd(self, info: Info) -> Decimal | None:
        quote = await _quote(info, self.chain, self.key)
        return None if quote is None else quote.usd

    @strawberry.field(description="When the price source quoted `priceUsd`.")
    async def price_updated_at(self, info: Info) -> datetime | None:
        quote = await _quote(info, self.chain, self.key)
        return None if quote is None else quote.quoted_at


async def _quote(
    info: Info, chain: str, token: TokenRef, at: datetime | None = None
) -> Quote | None:
    outcome = await value_resolvers.price(info.context.scope, chain, token, at)
    if isinstance(outcome, ServiceError):
        info.context.report(info, outcome)
        return None
    return outcome


@strawberry.federation.type(
    shareable=True, description="A chain this service reads (shareable with other subgraphs)."
)
class Chain:
    id: str = strawberry.field(description="The chain id used in queries, e.g. `base`.")
    name: str = strawberry.field(description="Display name, e.g. `Base`.")
    family: ChainFamily = strawberry.field(description="The kind of chain.")
    chain_id: int | None = strawberry.field(description="EIP-155 chain id for EVM chains.")
    native_token: Token = strawberry.field(description="The chain's native asset.")

    @classmethod
    def from_domain(cls, chain: DomainChain) -> Chain:
        return cls(
            id=chain.id,
            name=chain.config.name,
            family=chain.config.family,
            chain_id=chain.config.chain_id,
            native_token=Token.from_meta(chain.native),
        )


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
        quote = await _quote(info, row.reading.key.chain, row.reading.key.token, row.at)
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
            "What the account holds. Without `tokens`: the native asset plus every token in each "
            "chain's token list. A failed chain drops its rows and adds one error naming it; a "
            "failed token drops its row and adds an error naming it."
        )
    )
    async def balances(
        self,
        info: Info,
        chains: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Chain ids to read (default: every chain the address fits)."
            ),
        ] = None,
        tokens: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Tokens (addresses or `native`) to read on each chain, not its list."
            ),
        ] = None,
        include_zero: Annotated[
            bool | None, strawberry.argument(description="Also return rows whose balance is zero.")
        ] = False,
        min_value_usd: MinValueUsd = None,
        include_spam: IncludeSpam = False,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
    ) -> list[Balance]:
        selection = Selection(chains, tokens, bool(include_zero), min_value_usd, bool(include_spam))
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
        chains: Annotated[
            list[str] | None,
            strawberry.argument(description="Chain ids to total (default: every chain)."),
        ] = None,
        min_value_usd: MinValueUsd = None,
        include_spam: IncludeSpam = False,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
    ) -> Portfolio:
        selection = Selection(chains, None, False, min_value_usd, bool(include_spam))
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
        chain: Annotated[str, strawberry.argument(description="Chain id, e.g. `ethereum`.")],
        token: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
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
        chain: Annotated[str, strawberry.argument(description="Chain id.")],
        token: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
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
            "The USD value of the account's listed holdings (native plus token lists) at each "
            "point from `from` to `to`, every `interval`, priced at each point's time. Points "
            "beyond the limit (default 400) are refused with COST_LIMIT_EXCEEDED."
        )
    )
    async def portfolio_history(
        self,
        info: Info,
        from_: Annotated[
            datetime, strawberry.argument(name="from", description="The first point.")
        ],
        to: Annotated[datetime, strawberry.argument(description="The last point at most.")],
        chains: Annotated[
            list[str] | None,
            strawberry.argument(description="Chain ids to total (default: every chain)."),
        ] = None,
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
