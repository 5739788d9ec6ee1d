"""Each distinct document is parsed and validated once, in three bounded steps.

1. Parse with a token limit (parsing costs ~8 µs a token).
2. `shape.measure`: depth, aliases (fragments expanded, in linear time), written fields and
   string literal lengths, refused before any quadratic work.
3. graphql-core's specified rules, on a document now known to be small.

Outcomes (a valid `Document`, or the request errors) are kept in an LRU keyed by the SHA-256
of the text, so a repeated query costs one dictionary lookup. The digest is also the
Automatic Persisted Query hash. The LRU is bounded in entries and in the bytes each outcome
really holds (`core.footprint`): a document keeps its tree with each node's location (so
errors still point at lines and columns) but not the lexer's tokens behind them, and an
invalid one keeps its errors' messages and positions, not the nodes or tracebacks they came
with. What is kept is what is counted.
"""

from __future__ import annotations

import gc
import hashlib
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Location,
    Node,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    parse,
    specified_rules,
    visit,
)

from core.footprint import footprint
from graph.checks.shape import Shape, measure
from graph.checks.validation import validate
from settings import LimitsConfig


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed document that passed every validation rule."""

    text: str
    digest: str
    node: DocumentNode
    shape: Shape

    def root_fields(self, operation_name: str | None) -> list[str]:
        """The root field names `operation_name` selects (through fragments on Query too)."""
        operation = self.operation(operation_name)
        if operation is None:
            return []
        fragments = {
            d.name.value: d for d in self.node.definitions if isinstance(d, FragmentDefinitionNode)
        }
        names: list[str] = []
        pending = list(operation.selection_set.selections)
        seen: set[str] = set()
        while pending:
            selection = pending.pop(0)
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending += selection.selection_set.selections
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                pending += fragment.selection_set.selections if fragment else ()
        return list(dict.fromkeys(names))

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation to run: the one named `name`, or the only one when `name` is None."""
        operations = [d for d in self.node.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((o for o in operations if o.name and o.name.value == name), None)


@dataclass(frozen=True)
class Invalid:
    """A document that cannot run, and the kinds of its operations when it parsed (a GET
    carrying a mutation is refused as such, whether or not the mutation validates)."""

    errors: list[GraphQLError]
    operations: tuple[OperationType, ...] = ()


Outcome = Document | Invalid


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


ENTRY_OVERHEAD = 160
"""Bytes an entry holds besides its digest and outcome: its tuple, the dict's slot and the
order list's node."""


class DocumentCache:
    """Parsed and validated documents by digest (valid or not): at most `max_entries` of
    them, holding at most `max_bytes` in all."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: LimitsConfig,
        max_bytes: int,
        *,
        max_entries: int = 10_000,
    ) -> None:
        self._schema = schema
        self._limits = limits
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[int, Outcome]] = OrderedDict()
        self._bytes = 0
        self.parses = 0
        """Documents parsed since start (a warm repeated query parses nothing)."""

    def get(self, digest: str) -> Document | None:
        """A valid document already seen with this digest."""
        entry = self._entries.get(digest)
        if entry is None or not isinstance(entry[1], Document):
            return None
        self._entries.move_to_end(digest)
        return entry[1]

    def load(self, text: str, digest: str | None = None) -> Outcome:
        """The document for `text`, or the errors that stop it; each text is checked once."""
        key = digest or digest_of(text)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            return entry[1]
        outcome = self._check(text, key)
        self._remember(key, outcome)
        return outcome

    def _check(self, text: str, digest: str) -> Outcome:
        self.parses += 1
        try:
            node = parse(text, max_tokens=self._limits.max_document_tokens, no_location=False)
        except GraphQLError as exc:
            return Invalid([_lean(exc, "GRAPHQL_PARSE_FAILED")])
        kinds = tuple(
            d.operation for d in node.definitions if isinstance(d, OperationDefinitionNode)
        )
        shape = measure(node)
        refused = self._refusals(node, shape)
        if refused:
            return Invalid(refused, kinds)
        errors = validate(self._schema, node, specified_rules)
        if errors:
            return Invalid([_lean(e, "GRAPHQL_VALIDATION_FAILED") for e in errors], kinds)
        return Document(text, digest, node, shape)

    def _refusals(self, node: DocumentNode, shape: Shape) -> list[GraphQLError]:
        limits = self._limits
        problems: list[tuple[str, str]] = []
        if shape.cyclic:
            problems.append(("GRAPHQL_VALIDATION_FAILED", "a fragment spreads itself"))
        if shape.depth > limits.max_depth:
            problems.append(
                (_COST, f"the query is {shape.depth} levels deep; at most {limits.max_depth}")
            )
        if shape.aliases > limits.max_aliases:
            problems.append(
                (
                    _COST,
                    f"the query has {_count(shape.aliases)} aliases once fragments are expanded; "
                    f"at most {limits.max_aliases}",
                )
            )
        if shape.introspection_lists > INTROSPECTION_LISTS:
            problems.append(
                (
                    _COST,
                    f"the query nests {shape.introspection_lists} introspection lists; at most "
                    f"{INTROSPECTION_LISTS}, as in GraphiQL's schema query",
                )
            )
        if shape.fields > limits.max_fields:
            problems.append(
                (_COST, f"the query selects {shape.fields} fields; at most {limits.max_fields}")
            )
        if _longest_string(node) > limits.max_string_length:
            problems.append(
                (
                    "BAD_USER_INPUT",
                    f"a string argument is longer than {limits.max_string_length} characters",
                )
            )
        return [
            GraphQLError(message, extensions={"code": code, "retryable": False})
            for code, message in problems
        ]

    def _remember(self, digest: str, outcome: Outcome) -> None:
        if isinstance(outcome, Document):  # its text is its tree's source's, its digest ours
            size = _settle(outcome.node) + sys.getsizeof(outcome) + footprint(outcome.shape)
        else:
            size = footprint(outcome)
        size += sys.getsizeof(digest) + ENTRY_OVERHEAD
        if size > self._max_bytes or self._max_entries < 1:
            return
        self._entries[digest] = (size, outcome)
        self._bytes += size
        while self._bytes > self._max_bytes or len(self._entries) > self._max_entries:
            _, (old, _) = self._entries.popitem(last=False)
            self._bytes -= old


_COST = "COST_LIMIT_EXCEEDED"
INTROSPECTION_LISTS = 3
"""`__schema { types { fields { args } } }`: the standard introspection query, no deeper."""


def _lean(error: GraphQLError, code: str) -> GraphQLError:
    """`error` with its code, keeping what a response shows (message, locations) and not
    the nodes, tokens or traceback it was raised with."""
    return GraphQLError(
        error.message,
        source=error.source,
        positions=error.positions,
        extensions={**(error.extensions or {}), "code": code},
    )


def _settle(document: DocumentNode) -> int:
    """Forget the lexer's tokens behind each node's location (they link every token of the
    text, and nothing after parsing reads them: error locations need only `start` and the
    source), and answer the bytes the tree still holds: its nodes (and the array their
    attributes live in, outside `sys.getsizeof`), lists, locations, strings and source, in
    one walk that costs about half a parse (`footprint` would cost one and a half)."""
    total = 0
    pending: list[object] = [document]
    referents, size = gc.get_referents, sys.getsizeof
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _NODES:
            node = cast(Node, item)
            total += size(node) + 32 + 8 * len(node.keys)
            pending += referents(node)
        elif kind is str:
            total += size(item)
        elif kind is Location:
            spot = cast(Location, item)
            spot.start_token = spot.end_token = None  # type: ignore[assignment]
            total += size(spot) + sum(size(n) for n in (spot.start, spot.end) if n > 256)
        elif kind is list or kind is tuple:
            total += size(item)
            pending += cast("list[object]", item)
    return total + footprint(document.loc.source) if document.loc else total


def _kinds(base: type[Node]) -> set[type[Node]]:
    found = set(base.__subclasses__())
    for kind in list(found):
        found |= _kinds(kind)
    return found


_NODES = frozenset(_kinds(Node))


def _count(number: int) -> str:
    """A count that may be astronomically large, in a short form."""
    return str(number) if number < 10**9 else f"about 2^{number.bit_length() - 1}"


class _Strings(Visitor):
    """The longest string literal of a document (one class: a class per call was kept
    around by the interpreter's caches, ~70 bytes a document)."""

    def __init__(self) -> None:
        super().__init__()
        self.longest = 0

    def enter_string_value(self, string: StringValueNode, *_: object) -> None:
        self.longest = max(self.longest, len(string.value))


def _longest_string(node: DocumentNode) -> int:
    strings = _Strings()
    visit(node, strings)
    return strings.longest
