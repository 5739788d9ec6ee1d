"""Property-based fuzzing of the whole service with queries generated from its own schema.

hypothesis-graphql writes valid operations (every field, argument and fragment shape the
schema allows) and invalid ones (one schema violation each); the service runs them against
the Starknet and Esplora fakes. Whatever the query, the answer must be a coded GraphQL
answer: never a 5xx, never an INTERNAL_SERVER_ERROR, never bigger than `MAX_RESPONSE`. The
runs are derandomized (the same examples every time) and bounded, to keep `make test` fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries

from graph.schema.subgraph import build_schema
from tests.fakes import esplora
from tests.fakes import starknet as stark
from tests.graph.conftest import Offline, offline_service, offline_settings

MAX_RESPONSE = 1024 * 1024
SCHEMA = build_schema()._schema
ADDRESSES = [
    stark.ALICE,
    stark.TOKEN,
    esplora.P2TR,
    esplora.GENESIS,
    "native",
    "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE",
    "0x" + "a" * 40,
    "0xnot-an-address",
    "",
    "x" * 600,
]


def text_node(values: st.SearchStrategy[Any]) -> st.SearchStrategy[graphql.ValueNode]:
    return values.map(nodes.String)


def representation() -> st.SearchStrategy[graphql.ValueNode]:
    """`_Any` entity references: the right shapes with good and bad keys, and garbage."""
    key = st.sampled_from(ADDRESSES) | st.text(max_size=20)
    field = st.tuples(st.sampled_from(["__typename", "address", "chain", "tokenId", "x"]), key)
    shaped = st.builds(
        lambda typename, fields: nodes.Object(
            [
                graphql.ObjectFieldNode(name=graphql.NameNode(value=n), value=nodes.String(v))
                for n, v in [("__typename", typename), *fields]
            ]
        ),
        st.sampled_from(["Account", "Token", "Wallet"]),
        st.lists(field, max_size=3, unique_by=lambda f: f[0]),
    )
    return shaped | st.text(max_size=10).map(nodes.String)


SCALARS = {
    "BigInt": text_node(st.integers(min_value=-(2**300), max_value=2**300).map(str)),
    "Decimal": text_node(st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str)),
    "DateTime": text_node(st.datetimes().map(lambda d: d.isoformat())),
    "_Any": representation(),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Offline]:
    yield from offline_service(offline_settings(tmp_path_factory.mktemp("fuzz")))


def check(service: Offline, query: str) -> None:
    response = service.api.client.post("/graphql", json={"query": query})
    assert response.status_code < 500, (query, response.text[:500])
    assert len(response.content) <= MAX_RESPONSE, query
    body = response.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
    assert "INTERNAL_SERVER_ERROR" not in codes, (query, body)
    assert None not in codes, (query, body)  # every error says what kind it is


FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS))
def test_valid_operations_get_coded_answers(service: Offline, query: str) -> None:
    check(service, query)


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_operations_with_a_schema_violation_get_coded_refusals(
    service: Offline, query: str
) -> None:
    check(service, query)
