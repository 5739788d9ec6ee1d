"""The history service over a scripted source: what it reads, what it keeps, what it refuses."""

from __future__ import annotations

import asyncio
import gc
import math
import random
import tracemalloc
from collections.abc import Sequence

import pytest

from chains.cache.memory import MemoryCache
from chains.history.base import Movement
from chains.history.blocks import blocks_at, search_price
from chains.history.budget import ScanBudget
from chains.history.shared import SharedHistory
from chains.history.timelines import COLD_SCAN, Timelines
from core.errors import BadUserInput, CostLimitExceeded, HistoryBusy, UpstreamError
from core.models import BalanceKey, TokenRef
from tests.fakes.history import ScriptedHistory

ACCOUNT = "0x" + "ab" * 20
TOKEN = TokenRef("0x" + "cd" * 20)
KEY = BalanceKey("fake", ACCOUNT, TOKEN)


def moves(*pairs: tuple[int, int]) -> list[Movement]:
    return [Movement(b, i, f"0x{b:064x}", i, d) for i, (b, d) in enumerate(pairs)]


class Clock:
    """The monotonic clock the service's caches expire by, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CLOCKS: dict[int, Clock] = {}


def service(source: ScriptedHistory, depth: int = 10, max_events: int = 1_000) -> Timelines:
    clock = Clock()
    timelines = Timelines(source, finality_depth=depth, max_events=max_events, clock=clock)
    CLOCKS[id(timelines)] = clock
    return timelines


def later(timelines: Timelines, seconds: float) -> None:
    CLOCKS[id(timelines)].now += seconds


async def test_blocks_at_is_the_last_block_at_or_before_each_instant() -> None:
    rng = random.Random(7)
    stamps = [1_000]
    for _ in range(999):
        stamps.append(stamps[-1] + rng.choice([0, 1, 2, 12, 13, 40]))  # equal times allowed
    reads: list[int] = []

    async def times(blocks: Sequence[int]) -> dict[int, int]:
        reads.append(len(blocks))
        return {b: stamps[b] for b in blocks}

    instants = [rng.randrange(990, stamps[-1] + 50) for _ in range(60)]
    found = await blocks_at(instants, len(stamps) - 1, times)
    for instant in instants:
        expected = max((b for b, t in enumerate(stamps) if t <= instant), default=None)
        assert found[instant] == expected, instant
    assert len(reads) <= math.ceil(math.log2(len(stamps))) + 1  # all instants, one search


async def test_at_time_reads_about_log2_headers_cold_and_none_warm() -> None:
    source = ScriptedHistory(head_block=1_000_000)
    timelines = service(source)
    instant = source.genesis + 12 * 654_321 + 5
    assert (await timelines.blocks_at([instant]))[instant] == 654_321
    cold = source.calls["block_times"]
    assert cold <= 22 and source.headers <= 22  # log2(1e6) = 20, plus both ends
    later(timelines, 60)
    assert (await timelines.blocks_at([instant]))[instant] == 654_321
    assert source.calls["block_times"] == cold  # final: no header read at all


async def test_an_instant_before_the_first_block_is_bad_user_input() -> None:
    timelines = service(ScriptedHistory())
    (error,) = (await timelines.blocks_at([1])).values()
    assert isinstance(error, BadUserInput)


async def test_a_block_beyond_the_head_is_bad_user_input() -> None:
    timelines = service(ScriptedHistory(head_block=50))
    assert await timelines.check(50) == 50
    with pytest.raises(BadUserInput, match="beyond"):
        await timelines.check(51)


async def test_the_final_range_is_scanned_once_and_the_tail_reused_while_the_head_holds() -> None:
    source = ScriptedHistory(
        head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10), (50, -3), (95, 1))}
    )
    timelines = service(source)
    events = await timelines.timeline(KEY, None, None)
    assert [(e.movement.block_number, e.balance) for e in events] == [(5, 10), (50, 7), (95, 8)]
    assert source.calls["movements"] == 2  # the final range 0..90, then the tail 91..100
    assert await timelines.timeline(KEY, None, None) == events
    assert source.calls["movements"] == 2 and source.calls["head"] == 1  # a repeat: nothing
    source.head_block = 120
    later(timelines, 3)  # the head is read again
    await timelines.timeline(KEY, None, None)
    assert source.calls["head"] == 2
    assert source.calls["movements"] == 4  # 91..110 now final, and the new tail 111..120


async def test_a_window_keeps_the_whole_timelines_balances() -> None:
    source = ScriptedHistory(
        head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10), (50, -3), (60, 4))}
    )
    events = await service(source).timeline(KEY, 40, 55)
    assert [(e.movement.block_number, e.movement.delta, e.balance) for e in events] == [(50, -3, 7)]


async def test_a_window_after_the_deployment_opens_with_the_balance_before_it() -> None:
    source = ScriptedHistory(
        head_block=100, first=3, moves={(ACCOUNT, TOKEN): moves((5, 10), (50, -3), (60, 4))}
    )
    timelines = service(source)
    events = await timelines.timeline(KEY, 40, 80)
    assert [e.balance for e in events] == [7, 11]
    assert source.calls["balances_at"] == 1  # the opening balance, at block 39
    (movements,) = [n for c, n in source.calls.items() if c == "movements"]
    assert movements == 1  # only 40..80 was scanned


async def test_too_many_events_are_refused_not_kept() -> None:
    many = moves(*[(b, 1) for b in range(1, 60)])
    timelines = service(
        ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): many}), max_events=50
    )
    with pytest.raises(CostLimitExceeded, match="fromBlock"):
        await timelines.timeline(KEY, None, None)


async def test_a_timeline_found_too_long_stays_refused_without_a_read() -> None:
    """Issue 18, defect 4: each repeat of a timeline over the limit scanned it all again."""
    many = moves(*[(b, 1) for b in range(1, 60)])
    source = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): many})
    timelines = service(source, max_events=50)
    for _ in range(3):
        with pytest.raises(CostLimitExceeded, match="fromBlock"):
            await timelines.timeline(KEY, None, None)
    later(timelines, 60)  # new blocks: events only accumulate, the verdict stands
    source.head_block = 120
    with pytest.raises(CostLimitExceeded):
        await timelines.timeline(KEY, None, None)
    assert source.calls["movements"] == 1
    assert await timelines.quote(KEY, None, None) == 1  # nothing to scan: refused at once
    assert len(await timelines.timeline(KEY, None, 40)) == 40  # a shorter window still can


async def test_a_failed_scan_leaves_nothing_it_read_behind() -> None:
    """The error a scan ends with is kept (by waiters, by GraphQL errors): it must not keep
    the frames, and so the movements, the scan had read."""
    many = moves(*[(b, 1) for b in range(1, 101)] * 500)  # 50,000 movements
    source = ScriptedHistory(head_block=200, moves={(ACCOUNT, TOKEN): many})
    timelines = service(source, max_events=40_000)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(CostLimitExceeded) as raised:
            await timelines.timeline(KEY, None, None)
        error = raised.value  # as a GraphQL error would hold it
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert error.code == "COST_LIMIT_EXCEEDED"
    assert held < 64 * 1024, f"{held:,} bytes held after a failed scan of 50,000 movements"


async def test_scans_beyond_the_process_budget_are_refused_and_retryable() -> None:
    budget = ScanBudget(scans=1, blocks=10**6, events=150)
    slow = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10))}, pause=0.05)
    timelines = Timelines(slow, finality_depth=10, max_events=1_000, budget=budget)
    first = asyncio.ensure_future(timelines.timeline(KEY, None, None))
    await asyncio.sleep(0.01)
    other = BalanceKey("fake", "0x" + "ef" * 20, TOKEN)
    with pytest.raises(HistoryBusy) as busy:
        await timelines.timeline(other, None, None)
    assert busy.value.extensions["retryable"] is True
    await first
    assert await timelines.timeline(other, None, None) == []  # its share was given back
    crowded = ScriptedHistory(
        head_block=100, moves={(ACCOUNT, TOKEN): moves(*[(b, 1) for b in range(1, 90)] * 3)}
    )
    with pytest.raises(HistoryBusy, match="events"):  # 267 movements held: over 150
        await Timelines(crowded, finality_depth=10, max_events=1_000, budget=budget).timeline(
            KEY, None, None
        )
    assert (budget.scans, budget.blocks, budget.events) == (0, 0, 0)


async def test_a_timeline_is_priced_by_what_it_has_yet_to_scan() -> None:
    source = ScriptedHistory(head_block=1_000, moves={(ACCOUNT, TOKEN): moves((5, 10))})
    clock = Clock()
    timelines = Timelines(source, finality_depth=10, max_events=1_000, per_request=100, clock=clock)
    # The deployment search and a scan that cannot be sized yet, and what is newer; from a
    # block: the search, blocks 500..990 at 100 a request, and what is newer.
    assert await timelines.quote(KEY, None, None) == search_price(1_000) + COLD_SCAN + 1
    assert await timelines.quote(KEY, 500, None) == search_price(1_000) + 5 + 1
    assert sum(source.calls.values()) == 1  # the head, and nothing else
    assert await timelines.first_block(TOKEN) == 0
    assert await timelines.quote(KEY, None, None) == 10 + 1  # blocks 0..990, sized now
    await timelines.timeline(KEY, None, None)
    assert await timelines.quote(KEY, None, None) == 1
    source.head_block = 1_450
    clock.now += 3  # the head is kept two seconds
    assert await timelines.quote(KEY, None, None) == 5 + 1  # 991..1440


async def test_a_young_token_on_a_long_chain_is_not_priced_from_genesis() -> None:
    """Priced from block 0 while its first block was unknown, a token on a 140M-block chain
    cost 14,000 requests: over any limit, so the search never ran and the refusal never
    ended. Unknown, the scan is priced one request; known, from where the token begins."""
    head = 140_000_000
    source = ScriptedHistory(head_block=head, first=head - 5_000)
    timelines = Timelines(source, finality_depth=10, max_events=1_000, per_request=10_000)
    assert await timelines.quote(KEY, None, None) == search_price(head) + COLD_SCAN + 1
    assert not await timelines.first_known(TOKEN)
    assert await timelines.first_block(TOKEN) == head - 5_000
    assert await timelines.first_known(TOKEN)
    assert await timelines.quote(KEY, None, None) == 1 + 1  # 4,991 final blocks, and the tail


async def test_concurrent_identical_timelines_share_one_scan() -> None:
    source = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10))})
    timelines = service(source)
    results = await asyncio.gather(*(timelines.timeline(KEY, None, 80) for _ in range(20)))
    assert all(r == results[0] for r in results)
    assert source.calls["movements"] == 1


class SlowSearch(ScriptedHistory):
    """A deployment search that takes a while, as it does over a node (~log2(head) calls)."""

    async def first_block(self, token: TokenRef) -> int:
        await asyncio.sleep(0.01)
        return await super().first_block(token)


async def test_timelines_of_one_token_share_one_deployment_search() -> None:
    """Twenty holders of one token asked at once: one search, not twenty."""
    source = SlowSearch(head_block=100, first=5)
    timelines = service(source)
    keys = [BalanceKey("fake", f"0x{n:040x}", TOKEN) for n in range(20)]
    await asyncio.gather(*(timelines.timeline(key, None, 80) for key in keys))
    assert source.calls["first_block"] == 1


async def test_final_balances_at_a_block_are_read_once() -> None:
    source = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10))})
    timelines = service(source)
    (first,) = await timelines.balances_at([KEY], 20)
    (again,) = await timelines.balances_at([KEY], 20)
    assert first == again and source.calls["balances_at"] == 1
    await timelines.balances_at([KEY], 95)
    await timelines.balances_at([KEY], 95)
    assert source.calls["balances_at"] == 3  # above the final block: never kept


async def test_a_family_without_state_sums_its_movements() -> None:
    source = ScriptedHistory(
        head_block=100, stateful=False, moves={(ACCOUNT, TOKEN): moves((5, 10), (30, -4), (70, 1))}
    )
    (reading,) = await service(source).balances_at([KEY], 50)
    assert not isinstance(reading, Exception)
    assert (reading.raw_amount, reading.block_number) == (6, 50)


async def test_a_failing_source_raises_for_timelines() -> None:
    source = ScriptedHistory(failing=True)
    with pytest.raises(UpstreamError):
        await service(source).timeline(KEY, None, None)


async def test_a_second_process_reuses_what_the_first_made_final_through_the_shared_cache() -> None:
    cache = MemoryCache(1_000)
    history = {(ACCOUNT, TOKEN): moves((5, 10), (50, -3), (95, 1))}
    first, second = (
        ScriptedHistory(head_block=100, moves=history),
        ScriptedHistory(head_block=100, moves=history),
    )
    one = Timelines(first, finality_depth=10, max_events=100, shared=SharedHistory("fake", cache))
    two = Timelines(second, finality_depth=10, max_events=100, shared=SharedHistory("fake", cache))
    instant = first.genesis + 12 * 40
    assert await one.timeline(KEY, None, None) == await two.timeline(KEY, None, None)
    assert (await one.blocks_at([instant])) == (await two.blocks_at([instant])) == {instant: 40}
    assert second.calls["first_block"] == 0 and second.calls["block_times"] == 0
    assert second.calls["movements"] == 1  # only the unfinal tail 91..100


async def test_garbage_in_the_shared_cache_is_a_miss_never_an_answer() -> None:
    cache = MemoryCache(1_000)
    source = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10))})
    shared = SharedHistory("fake", cache)
    await Timelines(source, finality_depth=10, max_events=100, shared=shared).timeline(
        KEY, None, 80
    )
    for garbage in (b"{", b'{"t": 80, "o": "0", "m": [[500, 0, "x", 0, "1", null]]}', b"[]"):
        await cache.set_many({shared._scan_key(KEY, 0): garbage}, 60)
        fresh = ScriptedHistory(head_block=100, moves={(ACCOUNT, TOKEN): moves((5, 10))})
        events = await Timelines(fresh, finality_depth=10, max_events=100, shared=shared).timeline(
            KEY, None, 80
        )
        assert [e.balance for e in events] == [10] and fresh.calls["movements"] == 1
