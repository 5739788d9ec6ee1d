"""`schema.graphql` is the published contract: it must be exactly what the code serves."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from graph.schema.subgraph import build_schema

schema = build_schema()
SCHEMA_FILE = Path(__file__).resolve().parents[3] / "schema.graphql"
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def test_schema_file_matches_the_code() -> None:
    exported = schema.as_str() + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == exported, (
        "schema.graphql is stale: run `make schema` (balance-graph export-schema > schema.graphql)"
    )


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing: list[str] = []
    for name, kind in schema._schema.type_map.items():
        if name.startswith("_") or name.startswith("link__") or name in BUILT_IN:
            continue  # introspection, federation internals and GraphQL's own scalars
        if not kind.description:
            missing.append(f"type {name}")
        if isinstance(kind, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if field_name.startswith("_"):
                    continue
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                args = getattr(field, "args", {})
                missing += [
                    f"{name}.{field_name}({a})" for a, arg in args.items() if not arg.description
                ]
        if isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in kind.values.items() if not value.description]
    assert missing == []


def test_the_subgraph_declares_its_federation_entities() -> None:
    sdl = SCHEMA_FILE.read_text(encoding="utf-8")
    assert 'type Account @key(fields: "address")' in sdl
    assert 'type Token @key(fields: "chain address tokenId")' in sdl
    assert "type Chain @shareable" in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2.7"' in sdl
