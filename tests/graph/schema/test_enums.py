"""The domain's enums as GraphQL enums: the same values, each described for schema readers."""

from __future__ import annotations

from enum import Enum

import pytest
from graphql import GraphQLEnumType

from core.models import ChainFamily, TokenStandard
from graph.schema.subgraph import build_schema


@pytest.mark.parametrize("enum", [TokenStandard, ChainFamily])
def test_every_domain_value_is_a_described_graphql_value(enum: type[Enum]) -> None:
    graphql_enum = build_schema()._schema.type_map[enum.__name__]
    assert isinstance(graphql_enum, GraphQLEnumType)
    assert graphql_enum.description
    assert set(graphql_enum.values) == {member.name for member in enum}
    for name, value in graphql_enum.values.items():
        assert value.value == enum[name].value  # the domain value behind the GraphQL name
        assert value.description, name


def test_graphql_names_are_the_member_names() -> None:
    families = build_schema()._schema.type_map["ChainFamily"]
    assert isinstance(families, GraphQLEnumType)
    assert sorted(families.values) == ["BITCOIN", "EVM", "STARKNET"]  # not "evm", "starknet"
