"""What an operation asks of each rate class, known before it runs (`[rate_limits]`).

One unit per root field selection, in its class: `balance`; `balances`; `account` and
`accounts`; `token`. An alias is one more selection (`a: balance … b: balance …` is two
calls), fragments on Query count wherever they are spread, and an `_entities` selection is
one call of each class its representations name (`Account` -> account, `Token` -> token).
Batch fields count once, like the REST endpoints they replace: credits, not rate limits,
price their size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_argument_values

from settings import RateClass

_FIELDS: dict[str, RateClass] = {
    "balance": "balance",
    "balances": "balances",
    "account": "account",
    "accounts": "account",
    "token": "token",
}
_ENTITIES: dict[str, RateClass] = {"Account": "account", "Token": "token"}


def rate_usage(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
) -> dict[RateClass, int]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return dict(_Walk(schema, fragments, variables).selection_set(operation.selection_set))


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._memo: dict[str, Counter[RateClass]] = {}

    def selection_set(self, selection_set: SelectionSetNode) -> Counter[RateClass]:
        total: Counter[RateClass] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> Counter[RateClass]:
        if name not in self._memo:
            self._memo[name] = Counter()  # a cycle (refused by validation) adds nothing
            definition = self._fragments.get(name)
            if definition is not None:
                self._memo[name] = self.selection_set(definition.selection_set)
        return self._memo[name]

    def _field(self, node: FieldNode) -> Counter[RateClass]:
        name = node.name.value
        if name in _FIELDS:
            return Counter({_FIELDS[name]: 1})
        root = self._schema.query_type
        if name != "_entities" or root is None or name not in root.fields:
            return Counter()
        args = get_argument_values(root.fields[name], node, self._variables)
        typenames = {
            rep.get("__typename") for rep in args["representations"] if isinstance(rep, dict)
        }
        return Counter({_ENTITIES[t]: 1 for t in typenames if t in _ENTITIES})
