"""`schema.graphql` is the published contract: it must be exactly what the code serves."""

from __future__ import annotations

from pathlib import Path

from graph.schema import build_schema, schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    exported = schema.as_str() + "\n"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == exported, (
        "schema.graphql is stale: run `make schema` (balance-graph export-schema > schema.graphql)"
    )


def test_limits_do_not_change_the_schema() -> None:
    assert build_schema().as_str() == schema.as_str()


def test_every_field_the_frontend_reads_is_described() -> None:
    sdl = schema.as_str()
    for needle in ("rawAmount", "lastUpdated", "blockNumber", "amount", "decimals"):
        index = sdl.index(f"  {needle}")
        assert '"""' in sdl[max(0, index - 300) : index], f"{needle} has no description"
