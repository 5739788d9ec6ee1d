"""One chain's discovery against scripted sources: final ranges read once, cold scans in the
background under a budget and a deadline, truncation, fall-through, the shared tier."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from chains.cache.base import Cache
from chains.cache.memory import MemoryCache
from chains.cache.redis import RedisCache
from chains.discovery.base import IndexerSource, RangeSource
from chains.discovery.service import BackgroundScans, Discovery
from chains.discovery.shared import SharedDiscovery
from core.errors import DiscoveryIncomplete, DiscoveryTruncated, UpstreamError
from core.models import TokenRef
from settings import CacheConfig
from tests.conftest import redis_cache_table
from tests.fakes.discovery import ScriptedChain, ScriptedIndexer, ScriptedRanges

ALICE = "0x00000000000000000000000000000000000A11CE"
BOB = "0x0000000000000000000000000000000000000B0B"
DEPTH = 10


def token(n: int) -> TokenRef:
    return TokenRef(f"0x{n:040x}")


def parse(text: str) -> TokenRef:
    contract, _, token_id = text.partition(":")
    return TokenRef(contract, int(token_id) if token_id else None)


def discovery(
    chain: ScriptedChain,
    *sources: RangeSource | IndexerSource,
    budget: int = 4,
    max_tokens: int = 100,
    shared: Cache | None = None,
    from_block: int = 0,
) -> Discovery:
    return Discovery(
        "scripted",
        sources,
        head=chain.read_head,
        finality_depth=DEPTH,
        from_block=from_block,
        max_tokens=max_tokens,
        budget=BackgroundScans(budget),
        shared=None if shared is None else SharedDiscovery("scripted", shared, parse),
    )


def life(head: int = 1_000) -> ScriptedChain:
    chain = ScriptedChain(head)
    for block, n in [(5, 1), (250, 2), (251, 1), (620, 3), (995, 4)]:
        chain.move(ALICE, block, token(n))
    chain.move(BOB, 300, token(9))
    return chain


async def test_a_cold_account_is_scanned_whole_newest_tokens_first() -> None:
    chain = life()
    ranges = ScriptedRanges(chain)
    found = await discovery(chain, ranges).discover(ALICE)
    assert found.tokens == (token(4), token(3), token(1), token(2))
    assert found.errors == ()
    status = found.status
    assert (status.scanned_from, status.scanned_to, status.complete) == (0, 1_000, True)
    assert (status.source, status.token_count) == ("logs", 4)
    covered = sorted(ranges.asked)
    assert covered[0][0] == 0 and covered[-1][1] == 1_000
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(covered))
    final = chain.head - DEPTH
    scanned = [r for r in ranges.asked if r[1] <= final]
    assert scanned[0] == (final - 99, final)  # the newest final blocks first


async def test_a_repeat_reads_nothing_final_and_new_blocks_are_read_once() -> None:
    chain = life()
    ranges = ScriptedRanges(chain)
    service = discovery(chain, ranges)
    await service.discover(ALICE)
    ranges.asked.clear()
    assert (await service.discover(ALICE)).tokens[0] == token(4)
    assert ranges.asked == []  # same head: the tail is kept too
    chain.move(ALICE, 1_040, token(5))
    chain.head = 1_050
    found = await service.discover(ALICE)
    assert found.tokens[0] == token(5) and found.status.complete
    assert all(start > 1_000 - DEPTH for start, _ in ranges.asked)  # only blocks never final
    assert sorted(ranges.asked)[0][0] == 1_000 - DEPTH + 1


async def test_a_slow_cold_scan_answers_what_it_found_and_finishes_in_the_background() -> None:
    chain = life()
    ranges = ScriptedRanges(chain, span=100, delay=0.02)
    service = discovery(chain, ranges)
    loop = asyncio.get_running_loop()
    first = await service.discover(ALICE, loop.time() + 0.07)
    (incomplete,) = [e for e in first.errors if isinstance(e, DiscoveryIncomplete)]
    ext = incomplete.extensions
    assert ext["retryable"] is True and ext["account"] == ALICE
    assert int(str(ext["scannedFromBlock"])) > 0  # not every block yet
    assert ext["scannedToBlock"] == "1000"
    assert token(4) in first.tokens and token(2) not in first.tokens
    assert first.status.complete is False
    for _ in range(100):
        await asyncio.sleep(0.02)
        if not service._runs:
            break
    asked = len(ranges.asked)
    done = await service.discover(ALICE, loop.time() + 0.07)
    assert done.errors == () and done.status.complete
    assert set(done.tokens) == {token(1), token(2), token(3), token(4)}
    assert len(ranges.asked) == asked  # the rest was scanned by the background run


async def test_the_scan_budget_refuses_new_scans_with_a_retryable_notice() -> None:
    chain = life()
    ranges = ScriptedRanges(chain, delay=0.05)
    service = discovery(chain, ranges, budget=1)
    loop = asyncio.get_running_loop()
    await service.discover(ALICE, loop.time() + 0.01)  # starts the one scan allowed
    busy = await service.discover(BOB, loop.time() + 0.01)
    (notice,) = busy.errors
    assert isinstance(notice, DiscoveryIncomplete)
    assert "busy" in notice.message and notice.extensions["retryable"] is True
    assert busy.tokens == ()
    await service.aclose()


async def test_past_the_limit_the_most_recently_active_tokens_are_kept() -> None:
    chain = life()
    found = await discovery(chain, ScriptedRanges(chain), max_tokens=2).discover(ALICE)
    assert found.tokens == (token(4), token(3))
    assert [type(e) for e in found.errors] == [DiscoveryTruncated]
    assert found.status.token_count == 2


async def test_a_failed_source_gives_way_to_the_next() -> None:
    chain = life()
    indexer = ScriptedIndexer({ALICE: {token(7): 990}})
    service = discovery(chain, ScriptedRanges(chain, failing=True), indexer)
    found = await service.discover(ALICE)
    assert found.tokens == (token(7),) and found.errors == ()
    assert found.status.source == "blockscout"


async def test_when_every_source_fails_the_error_is_reported_and_nothing_invented() -> None:
    chain = life()
    service = discovery(chain, ScriptedIndexer(failing=True), ScriptedRanges(chain, failing=True))
    found = await service.discover(ALICE)
    assert found.tokens == ()
    assert [type(e) for e in found.errors] == [UpstreamError]
    assert found.errors[0].extensions["chain"] == "scripted"


async def test_an_indexer_answer_is_kept_for_a_while() -> None:
    chain = life()
    indexer = ScriptedIndexer({ALICE: {token(1): 10, token(2): 20}})
    service = discovery(chain, indexer)
    assert (await service.discover(ALICE)).tokens == (token(2), token(1))
    assert (await service.discover(ALICE)).status.complete
    assert indexer.calls == 1
    assert service.known(ALICE) == {token(1), token(2)} and service.known(BOB) == set()


async def test_another_process_reuses_the_final_coverage_through_the_shared_cache() -> None:
    chain = life()
    shared = MemoryCache(100)
    await discovery(chain, ScriptedRanges(chain), shared=shared).discover(ALICE)
    again = ScriptedRanges(chain)
    found = await discovery(chain, again, shared=shared).discover(ALICE)
    assert set(found.tokens) == {token(1), token(2), token(3), token(4)}
    assert all(start > 1_000 - DEPTH for start, _ in again.asked)  # the tail only


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["single", "cluster", "sentinel"])
async def test_the_final_coverage_is_shared_through_redis_in_every_mode(
    mode: str, request: pytest.FixtureRequest
) -> None:
    """As above, through a real Redis: one server, a 3+3 Cluster, a Sentinel-managed master."""
    chain = life()
    config = CacheConfig.model_validate(redis_cache_table(mode, request))
    first, second = RedisCache.from_settings(config), RedisCache.from_settings(config)
    try:
        await discovery(chain, ScriptedRanges(chain), shared=first).discover(ALICE)
        again = ScriptedRanges(chain)
        found = await discovery(chain, again, shared=second).discover(ALICE)
    finally:
        await first.close()
        await second.close()
    assert set(found.tokens) == {token(1), token(2), token(3), token(4)}
    assert again.asked and all(start > 1_000 - DEPTH for start, _ in again.asked)


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json",
        b'{"l": 0, "h": 990, "x": false, "t": [["0x01", 5]]}',  # not a token of this chain
        b'{"l": 0, "h": 990, "x": false, "t": [["0x' + b"0" * 40 + b'", 2000]]}',  # out of range
        b'{"l": 500, "h": 10, "x": false, "t": []}',
        b'{"l": 0, "h": 990, "x": 1, "t": []}',
    ],
)
async def test_garbage_in_the_shared_cache_is_a_miss(garbage: bytes) -> None:
    shared = MemoryCache(100)
    key = f"bg:v1:disc:{{{ALICE}}}:scripted:0"
    await shared.set_many({key: garbage}, 60)
    strict = SharedDiscovery("scripted", shared, _strict_parse)
    assert await strict.get(ALICE, 0) is None


def _strict_parse(text: str) -> TokenRef:
    if len(text) != 42:
        raise UpstreamError("not an address")  # a ServiceError, as the family's parser raises
    return parse(text)


async def test_discovery_from_a_later_block_never_reads_before_it() -> None:
    chain = life()
    ranges = ScriptedRanges(chain)
    found = await discovery(chain, ranges, from_block=300).discover(ALICE)
    assert set(found.tokens) == {token(3), token(4)}
    assert min(start for start, _ in ranges.asked) == 300
    assert found.status.scanned_from == 300


async def test_a_negative_from_block_is_a_window_below_the_head() -> None:
    chain = life()
    ranges = ScriptedRanges(chain)
    service = discovery(chain, ranges, from_block=-300)
    found = await service.discover(ALICE)
    assert set(found.tokens) == {token(4)}  # 620 is below 1,000 - 300
    assert found.status.scanned_from == 700 and found.status.complete
    ranges.asked.clear()
    chain.head = 1_100
    again = await service.discover(ALICE)
    assert again.status.complete and again.status.scanned_from == 700  # kept, not re-read
    assert min(start for start, _ in ranges.asked) > 1_000 - DEPTH
