"""The Query root: chains, accounts, single and batch balances, tokens."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.errors import CostLimitExceeded, ServiceError
from graph.execution.context import Info
from graph.schema.account import Account, Balance, report_all
from graph.schema.arguments import (
    AtBlock,
    AtTime,
    ChainId,
    ForceRefresh,
    MaxAge,
    TokenAddress,
    WalletAddress,
)
from graph.schema.chain import Chain
from graph.schema.token import Token
from resolvers import balances as balance_resolvers
from resolvers import history as history_resolvers
from resolvers import tokens as token_resolvers
from resolvers.arguments import canonical_account


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
        address: WalletAddress,
    ) -> Account | None:
        return Account(address=canonical_account(info.context.scope.registry, address))

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
    ) -> list[Account | None] | None:
        scope = info.context.scope
        if len(addresses) > scope.limits.max_accounts:
            raise CostLimitExceeded(
                f"accounts accepts at most {scope.limits.max_accounts} addresses, "
                f"got {len(addresses)}"
            )
        items: list[Account | None] = []
        for index, address in enumerate(addresses):
            try:
                items.append(Account(address=canonical_account(scope.registry, address)))
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
        account: WalletAddress,
        chain: ChainId,
        token: TokenAddress,
        max_age: MaxAge = None,
        force_refresh: ForceRefresh = False,
        at_block: AtBlock = None,
        at_time: AtTime = None,
    ) -> Balance | None:
        at = history_resolvers.At.of(at_block, at_time)
        row = await balance_resolvers.balance(
            info.context.scope, account, chain, token, max_age, force_refresh, at
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
        at_block: AtBlock = None,
        at_time: AtTime = None,
    ) -> list[Balance | None] | None:
        outcomes = await balance_resolvers.balance_pairs(
            info.context.scope,
            [balance_resolvers.PairInput(p.account, p.chain, p.token) for p in pairs],
            max_age,
            force_refresh,
            history_resolvers.At.of(at_block, at_time),
        )
        return report_all(info, outcomes)

    @strawberry.field(
        description="A token's metadata: from the token list, else read from the chain."
    )
    async def token(
        self,
        info: Info,
        chain: ChainId,
        address: TokenAddress,
    ) -> Token | None:
        scope = info.context.scope
        meta, spam = await token_resolvers.token(scope, chain, address)
        return Token.from_meta(meta, spam=spam)
