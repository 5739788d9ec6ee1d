"""The read loop every batching family shares: chunking, regrouping by name, chunk failures."""

from __future__ import annotations

from datetime import UTC, datetime

from chains.base import Answer, Chunk, read_in_chunks
from core.errors import ChainError, UpstreamError, UpstreamTimeout

AT = datetime(2026, 11, 23, tzinfo=UTC)


class Upstream:
    """Answers each call with its own name upper-cased, at block 100 + chunk number."""

    def __init__(self, fail_chunk: int | None = None, drop: bool = False) -> None:
        self.chunks: list[list[str]] = []
        self.fail_chunk = fail_chunk
        self.drop = drop

    async def run(self, calls: list[str]) -> Chunk[str]:
        number = len(self.chunks)
        self.chunks.append(calls)
        if number == self.fail_chunk:
            raise UpstreamTimeout("node timed out")
        results = [c.upper() for c in calls]
        return Chunk(100 + number, AT, results[:-1] if self.drop else results)


def group(token: str) -> dict[str, str]:
    return {"decimals": f"{token}.decimals", "symbol": f"{token}.symbol"}


async def test_balances_then_token_groups_are_chunked_and_regrouped_by_name() -> None:
    upstream = Upstream()
    answers = await read_in_chunks(
        "c", ["b0", "b1", "b2"], [group("t0"), group("t1")], 3, upstream.run
    )

    assert upstream.chunks == [
        ["b0", "b1", "b2"],
        ["t0.decimals", "t0.symbol", "t1.decimals"],
        ["t1.symbol"],
    ]
    assert answers.balances == [Answer("B0", 100, AT), Answer("B1", 100, AT), Answer("B2", 100, AT)]
    assert answers.tokens[0] == {
        "decimals": Answer("T0.DECIMALS", 101, AT),
        "symbol": Answer("T0.SYMBOL", 101, AT),
    }
    # A token split over two chunks keeps each answer's own block.
    assert answers.tokens[1] == {
        "decimals": Answer("T1.DECIMALS", 101, AT),
        "symbol": Answer("T1.SYMBOL", 102, AT),
    }


async def test_a_failed_chunk_fails_its_balances_and_every_token_it_touches() -> None:
    upstream = Upstream(fail_chunk=1)
    answers = await read_in_chunks("c", ["b0", "b1"], [group("t0"), group("t1")], 3, upstream.run)

    assert [type(a) for a in answers.balances] == [Answer, Answer]
    # chunk 0 is [b0, b1, t0.decimals]; the failed chunk 1 is [t0.symbol, t1.decimals, t1.symbol]
    for token in answers.tokens:
        assert isinstance(token, UpstreamTimeout)
        assert token.chain == "c"


async def test_a_chunk_answered_short_is_an_upstream_error_never_a_shifted_answer() -> None:
    answers = await read_in_chunks("c", ["b0", "b1"], [], 5, Upstream(drop=True).run)
    assert all(isinstance(a, UpstreamError) for a in answers.balances)
    error = answers.balances[0]
    assert isinstance(error, ChainError)
    assert "answered 1 of 2 calls" in error.message


async def test_nothing_to_read_sends_nothing() -> None:
    upstream = Upstream()
    answers = await read_in_chunks("c", [], [], 10, upstream.run)
    assert (answers.balances, answers.tokens, upstream.chunks) == ([], [], [])
