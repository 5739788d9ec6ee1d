"""A document's shape (depth, aliases, fields) in time linear in its size.

Depth and alias limits must count what execution would see, fragments expanded; expanding
them literally is exponential (`fragment F2 { ...F1 ...F1 }` doubles at every level). Here
each fragment is measured once and its numbers reused wherever it is spread, so a 1 KB
document whose expansion has 2^30 aliases is measured in microseconds and refused.

This runs before graphql-core's own validation rules, some of which are quadratic in the
number of fields: `fields` (selections as written, not expanded) bounds that work.
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
    cyclic: bool = False
    """A fragment spreads itself (directly or not); validation will refuse it."""


@dataclass(frozen=True)
class _Measure:
    depth: int  # -1: no field at all
    aliases: int


_EMPTY = _Measure(-1, 0)


def measure(document: DocumentNode) -> Shape:
    """The shape of every operation in `document` (the largest numbers of any of them)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(fragments)
    depth, aliases = -1, 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            found = walker.selection_set(definition.selection_set)
            depth, aliases = max(depth, found.depth), max(aliases, found.aliases)
    return Shape(max(depth, 0), aliases, walker.fields, walker.cyclic)


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
        depth, aliases = -1, 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.fields += 1
                inner = self.selection_set(selection.selection_set)
                depth = max(depth, inner.depth + 1)
                aliases += inner.aliases + (selection.alias is not None)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner.depth), aliases + inner.aliases
        return _Measure(depth, aliases)

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
