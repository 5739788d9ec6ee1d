"""graph.checks.validation answers exactly as graphql-core's `validate`: same errors, same order."""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, parse, specified_rules
from graphql import validate as stock_validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, queries

from graph.checks.validation import validate
from graph.schema.subgraph import build_schema
from tests.graph.test_fuzz import SCALARS

SCHEMA: GraphQLSchema = build_schema()._schema
INVALID = [
    "{ nope }",
    "{ chains { id nope } }",
    "{ account(address: 1) { address } }",
    "{ account { address } }",
    "query($a: String) { account(address: $a) { address } }",
    "query($a: String!, $a: Int) { chains { id } }",
    "{ chains { ...F } } fragment F on Chain { ...G } fragment G on Chain { ...F }",
    "{ chains { ...Missing } }",
    "fragment Unused on Chain { id } { chains { id } }",
    "{ chains { id @skip } }",
    "{ chains { id: nativeToken { symbol } id } }",
    '{ a: chains { id } a: account(address: "x") { address } }',
    "{ chains { ... on Token { symbol } } }",
    "query Q { chains { id } } query Q { chains { id } }",
    "{ chains } { chains { id } }",
    "mutation { chains { id } }",
    " ".join(f"{{ f{i}: nope{i} }}" for i in range(3)),
]


def messages(errors: list) -> list[tuple[str, object]]:  # type: ignore[type-arg]
    return [(e.message, [(loc.line, loc.column) for loc in e.locations or []]) for e in errors]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_documents_get_graphql_cores_errors(text: str) -> None:
    document = parse(text)
    expected = messages(stock_validate(SCHEMA, document, specified_rules))
    assert expected, "each case must be invalid"
    assert messages(validate(SCHEMA, document, specified_rules)) == expected


def test_the_error_limit_aborts_as_graphql_core_does() -> None:
    document = parse("{ " + " ".join(f"n{i}" for i in range(20)) + " }")
    expected = messages(stock_validate(SCHEMA, document, specified_rules, max_errors=5))
    assert len(expected) == 6 and "aborted" in expected[-1][0]
    assert messages(validate(SCHEMA, document, specified_rules, max_errors=5)) == expected


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.one_of(
        queries(SCHEMA, custom_scalars=SCALARS),
        queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    )
)
def test_generated_documents_validate_alike(text: str) -> None:
    """Valid documents, and documents generated to break the schema's rules."""
    document = parse(text)
    expected = messages(stock_validate(SCHEMA, document, specified_rules))
    assert messages(validate(SCHEMA, document, specified_rules)) == expected
