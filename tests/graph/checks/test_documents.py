"""The parsed-document cache: each text checked once, and what it keeps within its bytes.

Issue 18, defect 2: the cache counted a document's text, but kept its parsed tree with every
location and token (~2,966 bytes held for a 17-byte document, 170x; invalid documents kept
their errors' tracebacks, 196x). Bounds are measured with tracemalloc, never with the
cache's own count.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

import pytest
from graphql import GraphQLSchema

from graph.checks.documents import Document, DocumentCache, Invalid
from graph.schema.subgraph import build_schema
from settings import LimitsConfig

SCHEMA: GraphQLSchema = build_schema()._schema
LIMIT = 128 * 1024
LOADS = 300
"""Distinct documents: a few times what fits, and several megabytes as they were kept."""


def held_after(fill: Callable[[DocumentCache], None], limit: int) -> tuple[int, DocumentCache]:
    """Bytes still allocated once `fill` ran on a fresh cache of `limit` bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        documents = DocumentCache(SCHEMA, LimitsConfig(), limit)
        fill(documents)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before, documents
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "text",
    [
        "{ a%d: __typename }",  # valid: 17 bytes
        "{ a%d: nope }",  # fails validation
        "{ a%d: chains { id ",  # fails to parse
        'query($a: String!) { account(address: $a) { balances(chains: ["x"]) { chain '
        "rawAmount amount token { symbol decimals address } } } } # %d",
    ],
    ids=["tiny", "invalid", "unparsable", "typical"],
)
def test_what_the_document_cache_holds_stays_within_its_bytes(text: str) -> None:
    def fill(documents: DocumentCache) -> None:
        for i in range(LOADS):
            documents.load(text % i)

    # The same work with a cache that keeps nothing: what parsing and validating leave
    # behind anyway (the interpreter's free lists), not the cache's.
    baseline, _ = held_after(fill, 0)
    held, documents = held_after(fill, LIMIT)
    held -= baseline
    assert held <= LIMIT * 1.1, f"{held:,} bytes held for a {LIMIT:,}-byte document cache"
    newest = documents.load(text % (LOADS - 1))
    assert documents.parses == LOADS  # the newest is still kept: loading it parsed nothing
    assert isinstance(newest, Document | Invalid)


def test_kept_documents_still_locate_their_errors() -> None:
    documents = DocumentCache(SCHEMA, LimitsConfig(), LIMIT)
    text = "{\n  chains { id }\n  nope\n}"
    first, again = documents.load(text), documents.load(text)
    assert isinstance(first, Invalid) and again is first
    assert [e.formatted["locations"] for e in first.errors] == [[{"line": 3, "column": 3}]]
    valid = documents.load("{\n  chains {\n    id\n  }\n}")
    assert isinstance(valid, Document)
    field = valid.node.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    assert field.loc is not None and field.loc.source.get_location(field.loc.start).line == 2


def test_entries_are_capped_in_number_too() -> None:
    documents = DocumentCache(SCHEMA, LimitsConfig(), 10**9, max_entries=2)
    for name in ("a", "b", "c"):
        documents.load("{ %s: __typename }" % name)
    documents.load("{ a: __typename }")
    assert documents.parses == 4  # "a" was dropped for "c", and parsed again
