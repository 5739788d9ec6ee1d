"""The two node answers told apart by their text: a refused log range, and pruned state."""

from __future__ import annotations

from typing import Any

import pytest

from chains.transport.jsonrpc import _unwrap
from core.errors import ArchiveNodeRequired, RangeTooLarge, UpstreamError, UpstreamRateLimited


def error(code: int, message: str, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": 1, "error": body}


@pytest.mark.parametrize(
    ("answer", "end"),
    [
        (
            error(-32005, "query returned more than 10000 results", {"from": "0x1", "to": "0x1f"}),
            31,
        ),
        (
            error(
                -32602,
                "Log response size exceeded. this block range should work: [0x10, 0x2a]",
            ),
            42,
        ),
        (error(-32000, "block range is too wide"), None),
        (error(-32600, "exceed maximum block range: 5000"), None),
    ],
)
def test_refused_ranges_are_range_too_large_with_the_suggested_end(
    answer: dict[str, Any], end: int | None
) -> None:
    with pytest.raises(RangeTooLarge) as refused:
        _unwrap("c", answer, 1, frozenset({-32602, -32600}))
    assert refused.value.suggested_end == end
    assert refused.value.code == "UPSTREAM_RANGE_REFUSED"


def test_minus_32005_without_such_text_is_still_rate_limiting() -> None:
    with pytest.raises(UpstreamRateLimited):
        _unwrap(
            "c", error(-32005, "daily request count exceeded, request rate limited"), 1, frozenset()
        )


@pytest.mark.parametrize("message", ["missing trie node 8d3b (path )", "header not found"])
def test_pruned_state_is_archive_node_required_only_for_past_reads(message: str) -> None:
    with pytest.raises(ArchiveNodeRequired) as pruned:
        _unwrap("c", error(-32000, message), 1, frozenset(), past=True)
    assert pruned.value.extensions["retryable"] is False
    assert message not in pruned.value.message  # the node's text is logged, not served
    with pytest.raises(UpstreamError) as current:
        _unwrap("c", error(-32000, message), 1, frozenset())
    assert type(current.value) is UpstreamError  # a lagging node: fail over, as before
