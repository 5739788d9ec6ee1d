"""The GraphQL schema: root fields, extensions and the exported SDL."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from chains.errors import CostLimitExceeded, ServiceError
from graph.arguments import ForceRefresh, MaxAge
from graph.context import Context, Info
from graph.errors import ServiceErrors, log_unexpected
from graph.scalars import SCALARS
from graph.types import Account, Balance, Chain, Token, report_all
from resolvers import balances as balance_resolvers
from resolvers import tokens as token_resolvers
from resolvers.arguments import canonical_account
from settings import LimitsConfig

MAX_TOKENS = 10_000
"""Tokens a query document may have: far above any real query, far below a DoS."""


@strawberry.input(description="One (account, chain, token) lookup.")
class BalanceKeyInput:
    account: str = strawberry.field(description="Wallet address.")
    chain: str = strawberry.field(description="Chain id, e.g. `ethereum`.")
    token: str = strawberry.field(description="Token address, or `native`.")


@strawberry.type(
    description=(
        "Wallet balances read straight from chain nodes: exact raw amounts, freshness on your "
        "terms (maxAge, forceRefresh), and per-item errors beside the data."
    )
)
class Query:
    @strawberry.field(description="Every chain this service reads, in configuration order.")
    def chains(self, info: Info) -> list[Chain]:
        return [Chain.from_domain(c) for c in token_resolvers.chains(info.context.scope)]

    @strawberry.field(
        description=(
            "A wallet by address (any case). Null with an INVALID_ADDRESS error when no configured "
            "chain family accepts the address."
        )
    )
    def account(
        self,
        info: Info,
        address: Annotated[str, strawberry.argument(description="Wallet address.")],
    ) -> Account | None:
        return Account(address=canonical_account(info.context.scope, address))

    @strawberry.field(
        description=(
            "Several wallets at once; a null item with an INVALID_ADDRESS error at its index for "
            "an address no chain accepts. Every account's lookups share one round per chain."
        )
    )
    def accounts(
        self,
        info: Info,
        addresses: Annotated[list[str], strawberry.argument(description="Wallet addresses.")],
    ) -> list[Account | None]:
        scope = info.context.scope
        if len(addresses) > scope.limits.max_accounts:
            raise CostLimitExceeded(
                f"accounts accepts at most {scope.limits.max_accounts} addresses, "
                f"got {len(addresses)}"
            )
        items: list[Account | None] = []
        for index, address in enumerate(addresses):
            try:
                items.append(Account(address=canonical_account(scope, address)))
            except ServiceError as exc:
                info.context.report(info, exc, index)
                items.append(None)
        return items

    @strawberry.field(
        description="One balance; null with an error (code, chain, account, token) on failure."
    )
    async def balance(
        self,
        info: Info,
        account: Annotated[str, strawberry.argument(description="Wallet address.")],
        chain: Annotated[str, strawberry.argument(description="Chain id.")],
        token: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
    ) -> Balance | None:
        row = await balance_resolvers.balance(
            info.context.scope, account, chain, token, max_age, force_refresh
        )
        return Balance.from_row(row)

    @strawberry.field(
        description=(
            "Many balances in one call, in the order asked. A failed pair is null with an error at "
            "its index; the others are served. More pairs than the limit (default 100), or a bad "
            "maxAge, makes the whole field null with one error; sibling fields are unaffected."
        )
    )
    async def balances(
        self,
        info: Info,
        pairs: Annotated[list[BalanceKeyInput], strawberry.argument(description="The lookups.")],
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
    ) -> list[Balance | None] | None:
        outcomes = await balance_resolvers.balance_pairs(
            info.context.scope,
            [balance_resolvers.PairInput(p.account, p.chain, p.token) for p in pairs],
            max_age,
            force_refresh,
        )
        return report_all(info, outcomes)

    @strawberry.field(
        description="A token's metadata: from the token list, else read from the chain."
    )
    async def token(
        self,
        info: Info,
        chain: Annotated[str, strawberry.argument(description="Chain id.")],
        address: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
    ) -> Token | None:
        scope = info.context.scope
        meta, spam = await token_resolvers.token(scope, chain, address)
        return Token.from_meta(meta, spam=spam)


class BalanceSchema(strawberry.federation.Schema):
    """Logs only unexpected errors (with the request id); expected ones are the answer."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        context: Any = execution_context.context if execution_context else None
        log_unexpected(errors, context.request_id if isinstance(context, Context) else "-")


def build_schema(limits: LimitsConfig | None = None) -> strawberry.Schema:
    limits = limits or LimitsConfig()
    return BalanceSchema(
        query=Query,
        federation_version="2.7",
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=limits.max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ServiceErrors,
        ],
    )
