"""The GraphQL schema: root fields, federation entities, and the exported SDL."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, cast

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info as StrawberryInfo

from chains.errors import BadUserInput, CostLimitExceeded, ServiceError
from graph.arguments import AtBlock, AtTime, ForceRefresh, MaxAge
from graph.context import Info
from graph.scalars import SCALARS
from graph.types import Account, Balance, Chain, Token, report_all
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
        address: Annotated[str, strawberry.argument(description="Wallet address.")],
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
        account: Annotated[str, strawberry.argument(description="Wallet address.")],
        chain: Annotated[str, strawberry.argument(description="Chain id.")],
        token: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
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
        chain: Annotated[str, strawberry.argument(description="Chain id.")],
        address: Annotated[str, strawberry.argument(description="Token address, or `native`.")],
    ) -> Token | None:
        scope = info.context.scope
        meta, spam = await token_resolvers.token(scope, chain, address)
        return Token.from_meta(meta, spam=spam)


_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "Account": {"address": (str,)},
    "Token": {"chain": (str,), "address": (str,), "tokenId": (str, int, type(None))},
}
"""Each entity's key fields and the JSON types a representation may give them."""


class BalanceSchema(strawberry.federation.Schema):
    """The federation schema, with `_entities` that never lets one bad reference cost the
    others: each representation is checked, and a bad one is an error at its index."""

    def entities_resolver(  # the types Strawberry builds `_entities` from
        self, info: StrawberryInfo, representations: list[FederationAny]
    ) -> list[FederationAny]:
        limits = info.context.scope.limits
        accounts = sum(1 for r in representations if _typename(r) == "Account")
        if accounts > limits.max_accounts:
            raise CostLimitExceeded(
                f"_entities accepts at most {limits.max_accounts} Account references, "
                f"got {accounts}"
            )
        if len(representations) - accounts > limits.max_tokens:
            raise CostLimitExceeded(
                f"_entities accepts at most {limits.max_tokens} Token references"
            )
        entities = [_entity(info, index, r) for index, r in enumerate(representations)]
        return cast(list[FederationAny], entities)


def _typename(representation: Any) -> object:
    return representation.get("__typename") if isinstance(representation, dict) else None


def _entity(
    info: StrawberryInfo, index: int, representation: Any
) -> Account | Awaitable[Token] | ServiceError:
    """The entity a representation names, or the `BadUserInput` that explains why not."""
    typename = _typename(representation)
    keys = _KEYS.get(typename) if isinstance(typename, str) else None
    if keys is None:
        return BadUserInput(f"representations[{index}]: __typename must be Account or Token")
    for name, kinds in keys.items():
        value = representation.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            return BadUserInput(
                f"representations[{index}]: {typename}.{name} is missing or mistyped"
            )
    extra = set(representation) - set(keys) - {"__typename"}
    if extra:
        return BadUserInput(f"representations[{index}]: {typename} has no key {sorted(extra)[0]!r}")
    if typename == "Account":
        return Account.resolve_reference(info, representation["address"])
    return Token.resolve_reference(
        info, representation["chain"], representation["address"], representation.get("tokenId")
    )


def build_schema() -> strawberry.Schema:
    """The subgraph's schema. Limits are not Strawberry extensions: the request pipeline
    (graph.documents, graph.cost) enforces them once, before execution."""
    return BalanceSchema(
        query=Query,
        federation_version="2.7",
        config=StrawberryConfig(scalar_map=SCALARS),
    )
