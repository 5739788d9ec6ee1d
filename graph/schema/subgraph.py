"""The subgraph: the federation schema around the Query root, with an `_entities` that checks
each representation, and `build_schema`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info as StrawberryInfo

from core.errors import BadUserInput, CostLimitExceeded, ServiceError
from graph.schema.account import Account
from graph.schema.query import Query
from graph.schema.scalars import SCALARS
from graph.schema.subscription import Subscription
from graph.schema.token import Token

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
    (graph.checks.documents, graph.checks.cost) enforces them once, before execution."""
    return BalanceSchema(
        query=Query,
        subscription=Subscription,
        federation_version="2.7",
        config=StrawberryConfig(scalar_map=SCALARS),
    )
