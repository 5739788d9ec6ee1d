"""Folding an operation's selections through its fragments, in time linear in the document.

The cost model (lookups) and the rate-class usage both sum something over the fields a
selection set would execute, fragments expanded. Expanding them literally is exponential (a
fragment spreading another twice, ten levels deep, is 1,024 copies), so each fragment is
folded once per (fragment, parent type, key) and its result reused wherever it is spread.

Type conditions are decided here, once for both: an inline fragment or a spread contributes
only when its condition is the parent type or an abstract type the parent belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

FieldValue = Callable[[FieldNode, GraphQLObjectType, K], T]
"""What one field contributes, given its parent type and the fold's key (the cost model's
key is the account the field is asked about)."""


class SelectionFold(Generic[T, K]):
    """Sums `field` over the fields of selection sets, fragments expanded once each."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        field: FieldValue[K, T],
        zero: Callable[[], T],
        add: Callable[[T, T], T],
    ) -> None:
        self._schema = schema
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._field, self._zero, self._add = field, zero, add
        self._folded: dict[tuple[str, str, K], T] = {}

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType, key: K
    ) -> T:
        total = self._zero()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = self._add(total, self._field(selection, parent, key))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self.applies(condition.name.value, parent):
                    total = self._add(
                        total, self.selection_set(selection.selection_set, parent, key)
                    )
            elif isinstance(selection, FragmentSpreadNode):
                total = self._add(total, self._fragment(selection.name.value, parent, key))
        return total

    def applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        """Whether a fragment on `condition` selects anything of a `parent` object."""
        if condition == parent.name:
            return True
        abstract = self._schema.get_type(condition)
        return abstract is not None and any(
            t.name == parent.name
            for t in self._schema.get_possible_types(abstract)  # type: ignore[arg-type]
        )

    def _fragment(self, name: str, parent: GraphQLObjectType, key: K) -> T:
        memo = (name, parent.name, key)
        if memo not in self._folded:
            self._folded[memo] = self._zero()  # a cycle (refused by validation) adds nothing
            definition = self._fragments.get(name)
            if definition is not None and self.applies(
                definition.type_condition.name.value, parent
            ):
                self._folded[memo] = self.selection_set(definition.selection_set, parent, key)
        return self._folded[memo]
