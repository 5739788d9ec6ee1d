"""What a request asks of each rate class, from the document and its variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from graph.checks.usage import rate_usage
from graph.schema.subgraph import build_schema
from settings import RateClass

SCHEMA = build_schema()._schema
A = '"0x0000000000000000000000000000000000000001"'
BAL = f'balance(account: {A}, chain: "ethereum", token: "native") {{ rawAmount }}'


def usage(text: str, variables: dict[str, Any] | None = None) -> dict[RateClass, int]:
    document = parse(text)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    coerced = get_variable_values(SCHEMA, operation.variable_definitions or (), variables or {})
    assert not isinstance(coerced, list), coerced
    return rate_usage(SCHEMA, document, operation, coerced)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ chains { id } __typename }", {}),
        (f"{{ {BAL} }}", {"balance": 1}),
        (f"{{ a: {BAL} b: {BAL} c: {BAL} }}", {"balance": 3}),
        (
            f"{{ account(address: {A}) {{ address }} "
            f"accounts(addresses: [{A}, {A}]) {{ address }} }}",
            {"account": 2},
        ),
        ('{ token(chain: "ethereum", address: "native") { symbol } }', {"token": 1}),
        (
            f'{{ balances(pairs: [{{account: {A}, chain: "ethereum", token: "native"}}]) '
            "{ rawAmount } }",
            {"balances": 1},
        ),
        # Issue 18, defect 7: introspection costs CPU (~30 ms each) and was unmetered.
        (
            '{ __schema { types { name } } t: __type(name: "Chain") { name } __typename }',
            {"introspection": 2},
        ),
    ],
)
def test_each_root_selection_is_one_call_of_its_class(
    query: str, expected: dict[RateClass, int]
) -> None:
    assert usage(query) == expected


def test_fragments_count_wherever_they_are_spread() -> None:
    query = f"""{{ ...Two ...Two ... on Query {{ {BAL} }} }}
    fragment Two on Query {{ a: {BAL} b: {BAL} }}"""
    assert usage(query) == {"balance": 5}


def test_entities_count_once_per_class_their_representations_name() -> None:
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Account { address } ... on Token { symbol } } }"""
    reps = [
        {"__typename": "Account", "address": "0x1"},
        {"__typename": "Account", "address": "0x2"},
        {"__typename": "Token", "chain": "ethereum", "address": "native"},
        {"__typename": "Nope"},
        "garbage",
    ]
    assert usage(query, {"r": reps}) == {"account": 1, "token": 1}
    assert usage(query, {"r": reps[:1]}) == {"account": 1}
