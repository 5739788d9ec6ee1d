"""GraphQL object types. They hold values and delegate loading to `resolvers`; no I/O here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from chains.errors import ServiceError
from chains.models import ChainFamily, TokenMeta, TokenStandard
from chains.registry import Chain as DomainChain
from graph.context import Info
from graph.scalars import BigInt
from resolvers import balances as balance_resolvers
from resolvers.balances import BalanceRow

strawberry.enum(
    TokenStandard,
    description="How a token's balance is read: native coin, ERC-20, ERC-721, ERC-1155.",
)
strawberry.enum(ChainFamily, description="The kind of chain, which decides how it is read.")


MaxAge = Annotated[
    int | None,
    strawberry.argument(
        description=(
            "Accept a cached value only if it was read from the chain at most this many seconds "
            "ago (default 300). 0 always reads the chain."
        )
    ),
]
ForceRefresh = Annotated[
    bool | None,
    strawberry.argument(description="Read from the chain, ignoring any cached value."),
]


@strawberry.type(description="A fungible or non-fungible token, or a chain's native asset.")
class Token:
    chain: str = strawberry.field(
        description="Id of the chain the token lives on, e.g. `ethereum`."
    )
    address: str = strawberry.field(
        description="Contract address (EIP-55 checksummed on EVM chains), or `native`."
    )
    standard: TokenStandard = strawberry.field(description="The token standard.")
    symbol: str | None = strawberry.field(description="Ticker, e.g. `USDC`; null when unknown.")
    name: str | None = strawberry.field(description="Human-readable name; null when unknown.")
    decimals: int | None = strawberry.field(
        description="Decimals turning `rawAmount` into `amount`; null when unknown (never guessed)."
    )
    logo: str | None = strawberry.field(description="Logo URL from the token list, when known.")

    @classmethod
    def from_meta(cls, meta: TokenMeta) -> Token:
        return cls(
            chain=meta.chain,
            address=meta.address,
            standard=meta.standard,
            symbol=meta.symbol,
            name=meta.name,
            decimals=meta.decimals,
            logo=meta.logo,
        )


@strawberry.type(description="A chain this service reads.")
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
    token: Token = strawberry.field(description="The token, with its metadata.")
    row: strawberry.Private[BalanceRow]

    @classmethod
    def from_row(cls, row: BalanceRow) -> Balance:
        reading = row.reading
        return cls(
            chain=reading.key.chain,
            raw_amount=BigInt(reading.raw_amount),
            block_number=None if reading.block_number is None else BigInt(reading.block_number),
            last_updated=reading.read_at,
            token=Token.from_meta(row.token),
            row=row,
        )

    @strawberry.field(description="The account holding the balance.")
    def account(self) -> Account:
        return Account(address=self.row.reading.key.account)

    @strawberry.field(
        description=(
            "`rawAmount` divided by 10^decimals, exact. Null, with a "
            "TOKEN_METADATA_UNAVAILABLE error, when the token's decimals are unknown."
        )
    )
    def amount(self) -> Decimal | None:
        return balance_resolvers.amount(self.row)


@strawberry.type(description="A wallet address, on every chain whose address format it fits.")
class Account:
    address: str = strawberry.field(
        description="The address in canonical form (EIP-55 checksummed for EVM)."
    )

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
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
    ) -> list[Balance]:
        result = await balance_resolvers.account_balances(
            info.context.scope, self.address, chains, tokens, include_zero, max_age, force_refresh
        )
        for error in result.errors:
            info.context.report(info, error)
        return [Balance.from_row(r) for r in result.rows]

    @strawberry.field(description="One balance of this account; null with an error if it failed.")
    async def balance(
        self,
        info: Info,
        chain: Annotated[str, strawberry.argument(description="Chain id, e.g. `ethereum`.")],
        token: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
    ) -> Balance | None:
        return Balance.from_row(
            await balance_resolvers.balance(
                info.context.scope, self.address, chain, token, max_age, force_refresh
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
            items.append(Balance.from_row(outcome))
    return items
