"""What an operation asks of each rate class, known before it runs (`[rate_limits]`).

One unit per root field selection, in its class: `balance`; `balances`; `account` and
`accounts`; `token`; `__schema` and `__type` (introspection); `subscribe` (`balanceChanges`,
a subscription opened). An alias is one more selection (`a: balance … b: balance …` is two
calls), fragments on the root count wherever they are spread (`fragments.SelectionFold`, with
the cost model's answer for type conditions), and an `_entities` selection is one call of each
class its representations name (`Account` -> account, `Token` -> token). Batch fields count
once, like the REST endpoints they replace: credits, not rate limits, price their size.
"""

from __future__ import annotations

import operator
from collections import Counter

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues, get_argument_values

from graph.checks.fragments import SelectionFold
from settings import RateClass

_FIELDS: dict[str, RateClass] = {
    "balance": "balance",
    "balances": "balances",
    "account": "account",
    "accounts": "account",
    "token": "token",
    "__schema": "introspection",
    "__type": "introspection",
    "balanceChanges": "subscribe",
}
_ENTITIES: dict[str, RateClass] = {"Account": "account", "Token": "token"}


def rate_usage(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> dict[RateClass, int]:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return {}

    def field(node: FieldNode, parent: GraphQLObjectType, _: None) -> Counter[RateClass]:
        return _calls(root, node, variables)

    fold: SelectionFold[Counter[RateClass], None] = SelectionFold(
        schema, document, field, Counter, operator.add
    )
    return dict(fold.selection_set(operation.selection_set, root, None))


def _calls(
    root: GraphQLObjectType, node: FieldNode, variables: VariableValues
) -> Counter[RateClass]:
    """The calls one root field selection makes."""
    name = node.name.value
    if name in _FIELDS:
        return Counter({_FIELDS[name]: 1})
    if name != "_entities" or name not in root.fields:
        return Counter()
    args = get_argument_values(root.fields[name], node, variables)
    typenames = {rep.get("__typename") for rep in args["representations"] if isinstance(rep, dict)}
    return Counter({_ENTITIES[t]: 1 for t in typenames if t in _ENTITIES})
