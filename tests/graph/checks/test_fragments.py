"""One fragment fold for the cost model and the rate-class usage: the same type conditions,
and fragments folded once however they fan out."""

from __future__ import annotations

import operator
import time

from graphql import FieldNode, GraphQLObjectType, OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from chains.registry import ChainRegistry
from graph.checks.cost import CostModel
from graph.checks.fragments import SelectionFold
from graph.checks.usage import rate_usage
from graph.schema.subgraph import build_schema
from settings import RateClass
from tests.fakes.service import FakeProvider, make_chain

SCHEMA = build_schema()._schema
ROOT = SCHEMA.query_type
A = '"0x0000000000000000000000000000000000000001"'
BAL = f'balance(account: {A}, chain: "eth", token: "native") {{ rawAmount }}'


def priced(text: str) -> tuple[int, dict[RateClass, int]]:
    """(lookups, rate-class calls) of an operation, as the planner prices it (no validation:
    both must decide type conditions themselves)."""
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    variables = get_variable_values(SCHEMA, operation.variable_definitions or (), {})
    assert not isinstance(variables, list)
    registry = ChainRegistry({"eth": make_chain(FakeProvider("eth"))})
    lookups = CostModel(SCHEMA, registry).price(document, operation, variables).lookups
    return lookups, rate_usage(SCHEMA, document, operation, variables)


def test_cost_and_usage_agree_on_fragments_that_apply() -> None:
    query = f"{{ ... on Query {{ a: {BAL} }} ...Q }} fragment Q on Query {{ b: {BAL} }}"
    assert priced(query) == (2, {"balance": 2})


def test_a_fragment_on_another_type_counts_for_neither() -> None:
    # Usage used to walk into inline fragments without reading their condition: the same
    # document cost 0 lookups but 2 `balance` calls.
    query = f"{{ ... on Account {{ a: {BAL} }} ...T }} fragment T on Token {{ b: {BAL} }}"
    assert priced(query) == (0, {})


def test_fragments_that_double_at_every_level_are_folded_once_each() -> None:
    levels = 40
    fragments = [f"fragment F0 on Query {{ {BAL} }}"] + [
        f"fragment F{n} on Query {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, levels)
    ]
    document = parse(f"{{ ...F{levels - 1} }} " + " ".join(fragments))
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode) and ROOT is not None
    calls: list[str] = []

    def field(node: FieldNode, parent: GraphQLObjectType, key: None) -> int:
        calls.append(node.name.value)
        return 1

    started = time.perf_counter()
    fold: SelectionFold[int, None] = SelectionFold(SCHEMA, document, field, int, operator.add)
    assert fold.selection_set(operation.selection_set, ROOT, None) == 2 ** (levels - 1)
    assert calls == ["balance"]  # the field itself was looked at once
    assert time.perf_counter() - started < 0.5
