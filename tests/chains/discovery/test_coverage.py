"""Coverage: contiguous spans grown a chunk at a time, the most recent tokens kept, and a
memory bound that holds for what the process really keeps (tracemalloc)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from chains.discovery.base import Chunk
from chains.discovery.coverage import Coverage, Coverages, most_recent, ranked
from core.models import TokenRef


def token(n: int) -> TokenRef:
    return TokenRef(f"0x{n:040x}")


def test_a_coverage_grows_down_then_up_keeping_each_token_s_last_block() -> None:
    coverage = Coverage.empty(1_000)
    assert not coverage.scanned
    coverage = coverage.grown(Chunk(901, 1_000, {token(1): 950}), limit=10)
    coverage = coverage.grown(Chunk(801, 900, {token(1): 810, token(2): 820}), limit=10)
    coverage = coverage.grown(Chunk(1_001, 1_010, {token(3): 1_005}), limit=10)
    assert (coverage.low, coverage.high) == (801, 1_010)
    assert coverage.seen == {token(1): 950, token(2): 820, token(3): 1_005}
    with pytest.raises(ValueError, match="not next to"):
        coverage.grown(Chunk(1_020, 1_030, {}), limit=10)  # a hole would be a lie


def test_the_most_recent_are_kept_and_ties_are_stable() -> None:
    seen = {token(n): 100 - (n // 2) for n in range(10)}
    kept, dropped = most_recent(seen, 4)
    assert dropped and ranked(kept) == [token(0), token(1), token(2), token(3)]
    assert most_recent(seen, 10) == (seen, False)


def test_coverages_hold_at_most_their_token_budget_in_real_memory() -> None:
    budget = 20_000
    coverages = Coverages(budget)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for account in range(100):  # 200,000 tokens offered: ten times the budget
            seen = {TokenRef(f"0x{account:020x}{n:020x}"): n for n in range(2_000)}
            coverages.put(f"0x{account:040x}", Coverage(0, 10_000, seen))
            del seen
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(coverages) == budget // 2_000
    assert coverages.get(f"0x{99:040x}") is not None  # the newest stay
    assert coverages.get(f"0x{0:040x}") is None
    # ~20,000 tokens at a few hundred bytes each; 200,000 kept would be ten times more.
    assert held < 12 * 1024 * 1024, held
