"""ChainReader: store, then single flight, then provider, honouring each caller's freshness.

The first tests run the contract on a process-only store and on one backed by a real
redis-server, over anvil; the rest run the reader on an in-memory provider.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from chains.base import Reading
from chains.cache.base import Cache
from chains.cache.breaker import Breaker
from chains.cache.memory import MemoryCache
from chains.cache.redis import RedisCache
from chains.cache.resilient import ResilientCache
from chains.cache.store import ReadingStore
from chains.evm.provider import EvmProvider
from chains.reader import BalanceRequest, ChainReader, Freshness
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import TokenCallFailed, UpstreamTimeout
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenMeta, TokenRef
from settings import CacheConfig
from tests.conftest import Devnet, RedisServer, devnet_settings
from tests.fakes import service


class Clock:
    """A settable wall clock, so freshness is tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_store(shared: Cache | None = None) -> ReadingStore:
    config = CacheConfig()
    return ReadingStore(
        max_entries=1000,
        retention=config.retention,
        metadata_ttl=config.metadata_ttl,
        shared=shared,
    )


def redis_cache(url: str, timeout: float = 1.0) -> ResilientCache:
    backend = RedisCache(Redis.from_url(url, socket_timeout=timeout))
    return ResilientCache(backend, Breaker("redis", cooldown=60))


@pytest.fixture(params=["process", pytest.param("redis", marks=pytest.mark.integration)])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[ReadingStore]:
    if request.param == "process":
        yield make_store()
        return
    url = request.getfixturevalue("redis_url")
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    shared = redis_cache(url)
    yield make_store(shared)
    await shared.close()


class Harness:
    def __init__(self, reader: ChainReader, metrics: Metrics, clock: Clock) -> None:
        self.reader, self.metrics, self.clock = reader, metrics, clock

    @property
    def upstream(self) -> int:
        return self.metrics.upstream_requests.total(chain="devnet")

    async def read(
        self, key: BalanceKey, max_age: int = 300, force: bool = False
    ) -> BalanceReading:
        (outcome,), _ = await self.reader.balances([BalanceRequest(key, Freshness(max_age, force))])
        assert isinstance(outcome, BalanceReading), outcome
        return outcome


@pytest.fixture
async def make_harness(
    devnet: Devnet, tmp_path: Path
) -> AsyncIterator[Callable[[ReadingStore], Harness]]:
    settings = devnet_settings(tmp_path, devnet)
    config = settings.chains["devnet"]
    async with httpx.AsyncClient() as http:

        def build(store: ReadingStore) -> Harness:
            metrics, clock = Metrics(), Clock()
            rpc = JsonRpcClient("devnet", config.rpc_urls, http, metrics, timeout=10, cooldown=30)
            provider = EvmProvider(config, rpc, clock=clock)
            listed: dict[TokenRef, TokenMeta] = {}  # nothing listed: metadata is read on-chain
            reader = ChainReader("devnet", provider, listed, store, metrics, clock)
            return Harness(reader, metrics, clock)

        yield build


async def test_fresh_values_come_from_cache_and_stale_ones_from_chain(
    cache: ReadingStore, make_harness: Callable[[ReadingStore], Harness], devnet: Devnet
) -> None:
    h = make_harness(cache)
    key = BalanceKey("devnet", devnet.holder, TokenRef(devnet.sample.token("USDC").address))
    first = await h.read(key)
    assert first.raw_amount == devnet.sample.balance(devnet.holder, "USDC")
    assert h.upstream == 1
    h.clock.advance(299)
    assert await h.read(key) == first and h.upstream == 1
    assert await h.read(key, max_age=298) != first and h.upstream == 2  # too old for this caller
    h.clock.advance(10)
    again = await h.read(key, max_age=10)
    assert again.read_at == h.clock.now - timedelta(seconds=10) and h.upstream == 2
    await h.read(key, force=True)
    assert h.upstream == 3


async def test_concurrent_identical_reads_share_one_upstream_call(
    cache: ReadingStore, make_harness: Callable[[ReadingStore], Harness], devnet: Devnet
) -> None:
    h = make_harness(cache)
    keys = [BalanceKey("devnet", holder, NATIVE_TOKEN) for holder in devnet.sample.holders]
    readings = await asyncio.gather(*(h.read(keys[0], force=True) for _ in range(10)))
    assert h.upstream == 1 and len({r.read_at for r in readings}) == 1
    # Identical lookups join; distinct ones from distinct callers are separate rounds.
    readings = await asyncio.gather(*(h.read(k, force=True) for k in keys * 5))
    assert h.upstream == 1 + len(keys)
    assert {r.key: r.raw_amount for r in readings} == {
        k: devnet.chain.get_balance(k.account) for k in keys
    }


async def test_errors_are_never_cached(
    cache: ReadingStore, make_harness: Callable[[ReadingStore], Harness], devnet: Devnet
) -> None:
    h = make_harness(cache)
    key = BalanceKey("devnet", devnet.holder, TokenRef(devnet.reverting))
    for expected_requests in (1, 2):
        (outcome,), _ = await h.reader.balances([BalanceRequest(key, Freshness(300))])
        assert isinstance(outcome, TokenCallFailed)
        assert h.upstream == expected_requests


async def test_token_metadata_is_read_once_then_cached(
    cache: ReadingStore, make_harness: Callable[[ReadingStore], Harness], devnet: Devnet
) -> None:
    h = make_harness(cache)
    mkr = TokenRef(devnet.sample.token("MKR").address)
    key = BalanceKey("devnet", devnet.holder, mkr)
    _, metas = await h.reader.balances([BalanceRequest(key, Freshness(300))])
    assert metas[mkr].symbol == "MKR" and metas[mkr].decimals == 18  # bytes32 decoded
    assert h.upstream == 1  # balance and metadata in the same aggregate3
    (meta,) = await h.reader.tokens([mkr])
    assert meta == metas[mkr] and h.upstream == 1


async def test_redis_going_away_mid_run_keeps_answering_and_logs_once(
    make_harness: Callable[[ReadingStore], Harness],
    devnet: Devnet,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with RedisServer() as server:
        shared = redis_cache(server.url, timeout=0.5)
        h = make_harness(make_store(shared))
        key = BalanceKey("devnet", devnet.holder, NATIVE_TOKEN)
        await h.read(key)
        await h.read(key)
        assert h.upstream == 1 and shared.healthy
        server.stop()
        with caplog.at_level(logging.WARNING, logger="chains.cache"):
            for _ in range(4):  # what this process holds is still served, from memory
                reading = await h.read(key)
                assert reading.raw_amount == devnet.chain.get_balance(devnet.holder)
            assert h.upstream == 1
            for expected in range(2, 6):  # and what it must read comes straight from the chain
                await h.read(key, force=True)
                assert h.upstream == expected
        unavailable = [r for r in caplog.records if "unavailable" in r.getMessage()]
        assert len(unavailable) == 1 and not shared.healthy
        assert server.url not in caplog.text
        await shared.close()


# --- the reader on an in-memory provider ---------------------------------------------------

ALICE, USDC, DAI = service.ALICE, service.USDC, service.DAI
DAI_META = service.erc20("eth", DAI, "DAI", None)  # decimals unknown


class Recording(MemoryCache):
    """The in-process cache, remembering the TTL of every write."""

    def __init__(self) -> None:
        super().__init__(1000)
        self.ttls: list[tuple[list[str], int]] = []

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        if items:
            self.ttls.append((sorted(items), ttl))
        await super().set_many(items, ttl)


def unit_reader(
    provider: service.FakeProvider, shared: Cache | None = None
) -> tuple[ChainReader, Metrics]:
    metrics = Metrics()
    listed = {m.token: m for m in [service.erc20("eth", USDC, "USDC", 6)]}
    reader = ChainReader("eth", provider, listed, make_store(shared), metrics, provider.clock)
    return reader, metrics


async def read_one(
    reader: ChainReader, key: BalanceKey, max_age: int = 300, force: bool = False
) -> object:
    (outcome,), _ = await reader.balances([BalanceRequest(key, Freshness(max_age, force))])
    return outcome


async def test_a_value_exactly_max_age_old_is_served_and_one_second_older_is_not() -> None:
    provider = service.FakeProvider("eth", balances={(ALICE, USDC): 5})
    reader, metrics = unit_reader(provider)
    key = BalanceKey("eth", ALICE, USDC)
    first = await read_one(reader, key)
    provider.clock.advance(60)
    assert await read_one(reader, key, max_age=60) == first and provider.rounds == 1
    provider.balances[(ALICE, USDC)] = 6
    provider.clock.advance(1)
    fresh = await read_one(reader, key, max_age=60)
    assert isinstance(fresh, BalanceReading) and fresh.raw_amount == 6 and provider.rounds == 2
    assert metrics.cache_lookups.get(result="hit") == 1
    assert metrics.cache_lookups.get(result="miss") == 2


async def test_force_refresh_never_reads_the_cache() -> None:
    provider = service.FakeProvider("eth")
    reader, _ = unit_reader(provider)
    key = BalanceKey("eth", ALICE, NATIVE_TOKEN)
    await read_one(reader, key)
    await read_one(reader, key, max_age=10**9, force=True)
    assert provider.rounds == 2


async def test_concurrent_identical_lookups_join_one_read() -> None:
    provider = service.FakeProvider("eth", balances={(ALICE, USDC): 5})
    reader, metrics = unit_reader(provider)
    key = BalanceKey("eth", ALICE, USDC)
    outcomes = await asyncio.gather(*(read_one(reader, key, force=True) for _ in range(5)))
    assert provider.rounds == 1 and len({id(o) for o in outcomes}) == 1
    assert metrics.cache_lookups.get(result="shared") == 4


async def test_a_failed_lookup_is_asked_again_next_time() -> None:
    broken = TokenRef("0x" + "3" * 40)
    provider = service.FakeProvider("eth", failures={broken: TokenCallFailed("reverted")})
    reader, _ = unit_reader(provider)
    for rounds in (1, 2):
        outcome = await read_one(reader, BalanceKey("eth", ALICE, broken))
        assert isinstance(outcome, TokenCallFailed) and provider.rounds == rounds


async def test_unlisted_metadata_rides_along_and_unknown_decimals_are_kept_a_minute() -> None:
    provider = service.FakeProvider("eth", tokens={DAI: DAI_META})
    cache = Recording()
    reader, _ = unit_reader(provider, cache)
    _, metas = await reader.balances(
        [BalanceRequest(BalanceKey("eth", ALICE, DAI), Freshness(300))]
    )
    assert provider.reads == [([BalanceKey("eth", ALICE, DAI)], [DAI])]
    assert metas == {DAI: DAI_META}
    await asyncio.sleep(0)  # the store runs after the waiters are answered
    ttls = {keys[0].split(":")[2]: ttl for keys, ttl in cache.ttls}
    assert ttls == {"bal": CacheConfig().retention, "tok": 60}


async def test_listed_tokens_are_never_read_from_the_chain() -> None:
    provider = service.FakeProvider("eth")
    reader, _ = unit_reader(provider)
    (meta,) = await reader.tokens([USDC])
    await read_one(reader, BalanceKey("eth", ALICE, USDC))
    assert isinstance(meta, TokenMeta) and meta.symbol == "USDC"
    assert provider.reads == [([BalanceKey("eth", ALICE, USDC)], [])]


async def test_a_provider_bug_reaches_every_waiter_and_the_next_call_retries() -> None:
    provider = service.FakeProvider("eth")
    provider.crash = RuntimeError("provider bug")
    reader, _ = unit_reader(provider)
    key = BalanceKey("eth", ALICE, NATIVE_TOKEN)
    outcomes = await asyncio.gather(
        read_one(reader, key), read_one(reader, key), return_exceptions=True
    )
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError] and provider.rounds == 1
    provider.crash = None
    assert isinstance(await read_one(reader, key), BalanceReading) and provider.rounds == 2


async def test_garbled_decimals_are_never_kept_but_a_definite_absence_is() -> None:
    garbled = TokenRef("0x" + "4" * 40)
    meta = TokenMeta("eth", garbled, DAI_META.standard, "GRB", "Garbled", None, garbled=True)
    provider = service.FakeProvider("eth", tokens={DAI: DAI_META, garbled: meta})
    cache = Recording()
    reader, _ = unit_reader(provider, cache)
    for _ in range(2):
        await reader.balances(
            [
                BalanceRequest(BalanceKey("eth", ALICE, DAI), Freshness(0)),
                BalanceRequest(BalanceKey("eth", ALICE, garbled), Freshness(0)),
            ]
        )
        await asyncio.sleep(0)
        provider.clock.advance(1)  # maxAge 0: both balances are read again
    # The definite "no decimals()" was kept, so the second round asked for garbled only.
    assert [tokens for _, tokens in provider.reads] == [[DAI, garbled], [garbled]]
    stored = {key for keys, _ in cache.ttls for key in keys if ":tok:" in key}
    assert stored == {f"bg:v1:tok:eth:{DAI}"}


async def test_force_refresh_reads_the_metadata_of_its_tokens_again() -> None:
    provider = service.FakeProvider("eth", tokens={DAI: DAI_META})
    reader, _ = unit_reader(provider)
    key = BalanceKey("eth", ALICE, DAI)
    await read_one(reader, key)
    await asyncio.sleep(0)
    await read_one(reader, key, force=True)
    assert [tokens for _, tokens in provider.reads] == [[DAI], [DAI]]


async def test_a_lookup_late_for_the_deadline_times_out_alone_and_is_cached_for_next_time() -> None:
    slow, quick = TokenRef("0x" + "5" * 40), USDC
    release = asyncio.Event()
    provider = service.FakeProvider("eth", balances={(ALICE, slow): 9, (ALICE, quick): 4})
    reader, _ = unit_reader(provider)
    await read_one(reader, BalanceKey("eth", ALICE, quick))  # cached
    original = provider.read

    async def hanging(balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        await release.wait()
        return await original(balances, tokens)

    provider.read = hanging  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    requests = [
        BalanceRequest(BalanceKey("eth", ALICE, quick), Freshness(300)),
        BalanceRequest(BalanceKey("eth", ALICE, slow), Freshness(300)),
    ]
    started = loop.time()
    (ready, late), _ = await reader.balances(requests, deadline=started + 0.2)
    assert loop.time() - started < 1
    assert isinstance(ready, BalanceReading) and ready.raw_amount == 4
    assert isinstance(late, UpstreamTimeout) and late.chain == "eth" and late.retryable
    release.set()
    for _ in range(10):  # the read went on in its own task, and stored its answer
        await asyncio.sleep(0)
    rounds = provider.rounds
    outcome = await read_one(reader, BalanceKey("eth", ALICE, slow))
    assert isinstance(outcome, BalanceReading) and outcome.raw_amount == 9
    assert provider.rounds == rounds
