"""A document's shape (depth, aliases, fields) in time linear in its size.

Depth and alias limits must count what execution would see, fragments expanded; expanding
them literally is exponential (`fragment F2 { ...F1 ...F1 }` doubles at every level). Here
each fragment is measured once and its numbers reused wherever it is spread, so a 1 KB
document whose expansion has 2^30 aliases is measured in microseconds and refused.

This runs before graphql-core's own validation rules, some of which are quadratic in the
number of fields: `fields` (selections as written, not expanded) bounds that work.

Introspection is measured apart. Its documents are deep by nature (GraphiQL's schema query
follows `ofType` seven levels), so `__schema` and `__type` subtrees do not count toward
`depth`; what makes an introspection query expensive is nesting its lists
(`types { fields { type { fields { ...`, each level multiplying the answer), counted in
`introspection_lists`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class Shape:
    """What executing the document could touch, fragments expanded (except `fields`)."""

    depth: int
    """Deepest field nesting below the root (a top-level leaf is depth 0)."""
    aliases: int
    """Aliased fields, counting each fragment once per spread."""
    fields: int
    """Field selections as written in the document."""
    introspection_lists: int = 0
    """Deepest nesting of introspection list fields (`types`, `fields`, `args`, ...)."""
    cyclic: bool = False
    """A fragment spreads itself (directly or not); validation will refuse it."""


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
INTROSPECTION_LISTS = frozenset(
    {
        "types",
        "fields",
        "args",
        "inputFields",
        "interfaces",
        "possibleTypes",
        "enumValues",
        "directives",
        "locations",
    }
)
"""The list fields of the introspection types (none of our own types has such a field)."""


@dataclass(frozen=True)
class _Measure:
    depth: int  # -1: no field at all
    aliases: int
    lists: int = 0


_EMPTY = _Measure(-1, 0)


def measure(document: DocumentNode) -> Shape:
    """The shape of every operation in `document` (the largest numbers of any of them)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(fragments)
    depth, aliases, lists = -1, 0, 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found = walker.selection_set(definition.selection_set)
            depth, aliases = max(depth, found.depth), max(aliases, found.aliases)
            lists = max(lists, found.lists)
    return Shape(max(depth, 0), aliases, walker.fields, lists, walker.cyclic)


class _Walker:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._done: dict[str, _Measure] = {}
        self._visiting: set[str] = set()
        self.fields = 0  # every selection set is walked once: fragments are memoised
        self.cyclic = False

    def selection_set(self, selection_set: SelectionSetNode | None) -> _Measure:
        if selection_set is None:
            return _EMPTY
        depth, aliases, lists = -1, 0, 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.fields += 1
                inner = self.selection_set(selection.selection_set)
                name = selection.name.value
                depth = max(depth, 0 if name in INTROSPECTION_ROOTS else inner.depth + 1)
                aliases += inner.aliases + (selection.alias is not None)
                lists = max(lists, inner.lists + (name in INTROSPECTION_LISTS))
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:
                continue
            depth, aliases = max(depth, inner.depth), aliases + inner.aliases
            lists = max(lists, inner.lists)
        return _Measure(depth, aliases, lists)

    def fragment(self, name: str) -> _Measure:
        done = self._done.get(name)
        if done is not None:
            return done
        definition = self._fragments.get(name)
        if definition is None:
            return _EMPTY  # an unknown fragment: validation reports it
        if name in self._visiting:
            self.cyclic = True
            return _EMPTY
        self._visiting.add(name)
        found = self.selection_set(definition.selection_set)
        self._visiting.discard(name)
        self._done[name] = found
        return found
