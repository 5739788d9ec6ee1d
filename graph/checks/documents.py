"""Each distinct document is parsed and validated once, in three bounded steps.

1. Parse with a token limit (parsing costs ~8 µs a token).
2. `shape.measure`: depth, aliases (fragments expanded, in linear time), written fields and
   string literal lengths, refused before any quadratic work.
3. graphql-core's specified rules, on a document now known to be small.

Outcomes (a valid `Document`, or the request errors) are kept in an LRU keyed by the SHA-256
of the text, bounded in bytes, so a repeated query costs one dictionary lookup. The digest is
also the Automatic Persisted Query hash.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    parse,
    specified_rules,
    visit,
)

from graph.checks.shape import Shape, measure
from graph.checks.validation import validate
from settings import LimitsConfig


@dataclass(frozen=True)
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


class DocumentCache:
    """Parsed and validated documents by digest (valid or not), at most `max_bytes` of text."""

    def __init__(self, schema: GraphQLSchema, limits: LimitsConfig, max_bytes: int) -> None:
        self._schema = schema
        self._limits = limits
        self._max_bytes = max_bytes
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
        self._remember(key, len(text.encode()), outcome)
        return outcome

    def _check(self, text: str, digest: str) -> Outcome:
        self.parses += 1
        try:
            node = parse(text, max_tokens=self._limits.max_document_tokens, no_location=False)
        except GraphQLError as exc:
            return Invalid([_coded(exc, "GRAPHQL_PARSE_FAILED")])
        kinds = tuple(
            d.operation for d in node.definitions if isinstance(d, OperationDefinitionNode)
        )
        shape = measure(node)
        refused = self._refusals(node, shape)
        if refused:
            return Invalid(refused, kinds)
        errors = validate(self._schema, node, specified_rules)
        if errors:
            return Invalid([_coded(e, "GRAPHQL_VALIDATION_FAILED") for e in errors], kinds)
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

    def _remember(self, digest: str, size: int, outcome: Outcome) -> None:
        if size > self._max_bytes:
            return
        self._entries[digest] = (size, outcome)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (old, _) = self._entries.popitem(last=False)
            self._bytes -= old


_COST = "COST_LIMIT_EXCEEDED"
INTROSPECTION_LISTS = 3
"""`__schema { types { fields { args } } }`: the standard introspection query, no deeper."""


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _count(number: int) -> str:
    """A count that may be astronomically large, in a short form."""
    return str(number) if number < 10**9 else f"about 2^{number.bit_length() - 1}"


def _longest_string(node: DocumentNode) -> int:
    longest = 0

    class _Strings(Visitor):
        def enter_string_value(self, string: StringValueNode, *_: object) -> None:
            nonlocal longest
            longest = max(longest, len(string.value))

    visit(node, _Strings())
    return longest
