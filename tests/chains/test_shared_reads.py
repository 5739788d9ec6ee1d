"""Cold reads shared between processes through Redis leases, each "process" a reader with its
own store and its own provider over one real redis-server: a waiter takes the holder's
values, never older than its callers accept, and never waits long on a holder that failed,
died or whose Redis froze."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from redis.asyncio import Redis

from chains.base import Reading
from chains.cache.breaker import Breaker
from chains.cache.lease import Claim, RedisLeases, lease_key
from chains.cache.redis import RedisCache
from chains.cache.resilient import ResilientCache
from chains.reader import BalanceRequest, ChainReader, Freshness
from chains.shared_reads import SharedReads
from chains.tokens.tokenlist import native_token
from core.errors import UpstreamError
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, TokenMeta, TokenRef
from tests.conftest import RedisServer
from tests.fakes.service import Clock, FakeProvider, chain_config, erc20, new_store

pytestmark = pytest.mark.integration

CHAIN = "eth"
_T = TypeVar("_T")


class GatedProvider(FakeProvider):
    """A node whose answers wait for `gate` (open unless closed by the test)."""

    def __init__(self, clock: Clock, balances: dict[tuple[str, TokenRef], int]) -> None:
        super().__init__(CHAIN, balances=balances, clock=clock)
        self.gate = asyncio.Event()
        self.gate.set()

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        await self.gate.wait()
        return await super().read(balances, tokens)


class Replica:
    """What one process holds: its memory, its node client, its Redis client and breaker."""

    def __init__(
        self, url: str, *, raw: int = 100, clock: Clock | None = None, ttl: float = 30.0
    ) -> None:
        self.client = Redis.from_url(url, socket_timeout=5)
        breaker = Breaker("redis", cooldown=60, timeout=0.2)
        store = new_store(ResilientCache(RedisCache(self.client), breaker))
        self.metrics = Metrics()
        self.provider = GatedProvider(clock or Clock(), {})
        self.raw = raw
        self.metas: dict[TokenRef, TokenMeta] = {}
        reads = SharedReads(CHAIN, RedisLeases(self.client, breaker), store, self.metrics, ttl=ttl)
        native = native_token(chain_config(CHAIN))
        self.reader = ChainReader(
            CHAIN,
            self.provider,
            {native.token: native},
            store,
            self.metrics,
            self.provider.clock,
            shared_reads=reads,
        )

    async def read(
        self,
        account: str,
        *,
        force: bool = False,
        within: float = 5.0,
        token: TokenRef = NATIVE_TOKEN,
    ) -> BalanceReading | Exception:
        """The node holds `raw` of `token`; the reader's answer (metadata in `metas`)."""
        self.provider.balances[(account, token)] = self.raw
        if not token.is_native:
            self.provider.tokens[token] = erc20(CHAIN, token, "DAI")
        request = BalanceRequest(BalanceKey(CHAIN, account, token), Freshness(300, force))
        deadline = asyncio.get_running_loop().time() + within
        (outcome,), self.metas = await self.reader.balances([request], deadline)
        return outcome

    def outcomes(self) -> dict[str, int]:
        names = ("led", "waited", "took_over", "gave_up", "uncoordinated")
        found = {name: self.metrics.shared_reads.get(outcome=name) for name in names}
        return {name: count for name, count in found.items() if count}

    async def close(self) -> None:
        await self.reader.aclose()
        await self.client.aclose()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def replicas(redis_url: str) -> AsyncIterator[Callable[..., Replica]]:
    """Makes replicas on the session's Redis; closes them after the test."""
    made: list[Replica] = []

    def make(**options: Any) -> Replica:
        made.append(Replica(redis_url, **options))
        return made[-1]

    yield make
    for replica in made:
        await replica.close()


def wallet() -> str:
    return "0x" + secrets.token_hex(20)


async def held_elsewhere(client: Redis, account: str, ttl_ms: int) -> None:
    """A lease on `account`'s native balance taken by a process that then died."""
    await client.set(lease_key(CHAIN, account, [NATIVE_TOKEN]), "dead", px=ttl_ms)


async def settled(replica: Replica) -> None:
    """Until `replica`'s reads in flight are over (stored, and their leases released)."""
    await asyncio.gather(*replica.reader._tasks)


async def until_waiting(replica: Replica, task: asyncio.Task[Any]) -> None:
    """Until `replica` has claimed its lookups (and holds a lease, or polls), or is done."""
    for _ in range(200):
        if replica.reader._balances_in_flight or task.done():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the replica never started its read")


async def behind(
    first: Replica,
    second: Replica,
    follow: Coroutine[Any, Any, _T],
    account: str,
    token: TokenRef = NATIVE_TOKEN,
) -> tuple[BalanceReading | Exception, _T]:
    """`first` starts reading `account`, its node holding the answer back until `second` has
    started `follow` (and found the lease held); both outcomes."""
    first.provider.gate.clear()
    leading = asyncio.create_task(first.read(account, token=token))
    await until_waiting(first, leading)
    following = asyncio.create_task(follow)
    await until_waiting(second, following)
    await asyncio.sleep(0.05)
    first.provider.gate.set()
    return await leading, await following


@pytest.mark.parametrize("shared", [True, False])
async def test_a_second_process_takes_the_first_ones_read_instead_of_reading(
    replicas: Callable[..., Replica], shared: bool
) -> None:
    first, second = replicas(), replicas()
    if not shared:
        second.reader._shared_reads = None  # the feature off: the test must see the difference
    account = wallet()
    led, followed = await behind(first, second, second.read(account), account)
    assert isinstance(led, BalanceReading) and isinstance(followed, BalanceReading)
    assert followed.raw_amount == led.raw_amount == 100
    assert first.provider.rounds == 1
    assert second.provider.rounds == (0 if shared else 1)
    assert first.outcomes() == {"led": 1}
    assert second.outcomes() == ({"waited": 1} if shared else {})


@pytest.mark.parametrize("force", [True, False])
async def test_a_forced_waiter_is_never_given_a_value_read_before_it_asked(
    replicas: Callable[..., Replica], force: bool
) -> None:
    """The first process reads at T; the second asks at T+5 while that read is in flight.
    With maxAge 300 it takes the first one's value; with forceRefresh that value is older
    than its request, so it waits for the lease to be free and reads the chain itself (which
    moved meanwhile: 200, not 100)."""
    start = Clock()
    later = Clock(start.now + timedelta(seconds=5))
    first, second = replicas(clock=start), replicas(raw=200, clock=later)
    account = wallet()
    led, followed = await behind(first, second, second.read(account, force=force), account)
    assert isinstance(led, BalanceReading) and isinstance(followed, BalanceReading)
    if force:
        assert (followed.raw_amount, followed.read_at) == (200, later.now)
        assert second.provider.rounds == 1
        assert second.outcomes() == {"took_over": 1}
    else:
        assert (followed.raw_amount, followed.read_at) == (100, start.now)
        assert second.provider.rounds == 0
        assert second.outcomes() == {"waited": 1}


async def test_a_forced_request_joining_a_wait_in_its_own_process_tightens_it(
    replicas: Callable[..., Replica],
) -> None:
    """The second process waits (maxAge 300) for the first one's read; 5 s later a forced
    request for the same lookup joins that wait in the second process. The first one's value
    is now older than a caller accepts: neither caller gets it, the second process reads."""
    start, later = Clock(), Clock()
    first, second = replicas(clock=start), replicas(raw=200, clock=later)
    account = wallet()

    async def lax_then_forced() -> list[BalanceReading | Exception]:
        lax = asyncio.create_task(second.read(account))
        await until_waiting(second, lax)
        later.advance(5)
        forced = asyncio.create_task(second.read(account, force=True))  # joins before the gate
        return [await lax, await forced]

    led, answers = await behind(first, second, lax_then_forced(), account)
    assert isinstance(led, BalanceReading)
    assert [(a.raw_amount, a.read_at) for a in answers if isinstance(a, BalanceReading)] == [
        (200, later.now)
    ] * 2
    assert second.provider.rounds == 1


@pytest.mark.parametrize("force", [True, False])
async def test_unlisted_metadata_comes_with_the_holders_values_unless_forced(
    replicas: Callable[..., Replica], force: bool
) -> None:
    """An unlisted token's metadata is read with its balance; a waiter takes both from the
    holder. A forced caller reads stored metadata again, so its read asks for the token."""
    start = Clock()
    later = Clock(start.now + timedelta(seconds=5)) if force else start
    first, second = replicas(clock=start), replicas(clock=later)
    account, token = wallet(), TokenRef("0x" + secrets.token_hex(20))  # never stored before
    follow = second.read(account, token=token, force=force)
    led, reading = await behind(first, second, follow, account, token)
    assert isinstance(led, BalanceReading) and isinstance(reading, BalanceReading)
    assert second.metas[token].symbol == "DAI"
    assert first.provider.reads == [([BalanceKey(CHAIN, account, token)], [token])]
    if force:
        assert second.provider.reads == [([BalanceKey(CHAIN, account, token)], [token])]
    else:
        assert second.provider.reads == []


async def test_a_holder_whose_read_fails_releases_and_the_waiter_reads_at_once(
    replicas: Callable[..., Replica],
) -> None:
    """The holder's node is down: nothing is stored, its lease is released at once (not
    after its 30 s ttl), and the waiter reads from its own node."""
    first, second = replicas(), replicas()
    first.provider.down = UpstreamError("node down", chain=CHAIN)
    account = wallet()
    loop = asyncio.get_running_loop()
    started = loop.time()
    led, followed = await behind(first, second, second.read(account), account)
    assert isinstance(led, UpstreamError)
    assert isinstance(followed, BalanceReading) and followed.raw_amount == 100
    assert loop.time() - started < 1.0
    assert second.outcomes() == {"took_over": 1}


async def test_waiters_take_over_when_the_holder_died(
    replicas: Callable[..., Replica], raw: Redis
) -> None:
    """No value comes, the lease expires (0.4 s), the waiter takes it and reads."""
    replica = replicas()
    account = wallet()
    await held_elsewhere(raw, account, ttl_ms=400)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reading = await replica.read(account)
    waited = loop.time() - started
    assert isinstance(reading, BalanceReading) and reading.raw_amount == 100
    assert 0.3 < waited < 1.5
    assert replica.provider.rounds == 1
    assert replica.outcomes() == {"took_over": 1}
    await settled(replica)
    assert await raw.get(lease_key(CHAIN, account, [NATIVE_TOKEN])) is None  # released


async def test_a_wait_takes_at_most_half_the_time_left_before_the_deadline(
    replicas: Callable[..., Replica], raw: Redis
) -> None:
    """A dead holder's lease outlives the request (60 s): the waiter reads by itself after
    half its 1 s, and answers in time instead of with UPSTREAM_TIMEOUT."""
    replica = replicas(ttl=60)
    account = wallet()
    await held_elsewhere(raw, account, ttl_ms=60_000)
    loop = asyncio.get_running_loop()
    started = loop.time()
    reading = await replica.read(account, within=1.0)
    assert isinstance(reading, BalanceReading) and reading.raw_amount == 100
    assert 0.4 < loop.time() - started < 1.0
    assert replica.outcomes() == {"gave_up": 1}


async def test_a_redis_that_freezes_during_a_wait_leaves_the_waiter_reading_itself() -> None:
    """The breaker opens after a few timeouts; the waiter stops coordinating and reads."""
    with RedisServer() as server:
        replica = Replica(server.url)
        account = wallet()
        holder = Redis.from_url(server.url)
        await held_elsewhere(holder, account, ttl_ms=60_000)
        await holder.aclose()
        loop = asyncio.get_running_loop()
        try:
            reading = asyncio.create_task(replica.read(account))
            await until_waiting(replica, reading)
            server.freeze()
            started = loop.time()
            try:
                answer = await reading
            finally:
                server.thaw()
            assert isinstance(answer, BalanceReading) and answer.raw_amount == 100
            assert loop.time() - started < 2.0  # a few 0.2 s timeouts, then none
            assert replica.provider.rounds == 1
            assert replica.outcomes() == {"uncoordinated": 1}
        finally:
            await replica.close()


async def test_values_stored_just_before_the_lease_is_found_free_were_waited_for(
    replicas: Callable[..., Replica], raw: Redis
) -> None:
    """The holder stores its values and releases between a waiter's look and its next claim:
    the waiter takes them (no read of its own), and counts the lease `waited`, not
    `took_over`."""
    first, second = replicas(), replicas(raw=200)
    first.reader._shared_reads = None  # it stores what it reads, and takes no lease
    account = wallet()
    await held_elsewhere(raw, account, 30_000)
    shared = second.reader._shared_reads
    assert shared is not None
    real = shared._leases
    claims = 0

    class Racing:
        """The real leases; on the waiter's first poll, the holder finishes just before."""

        async def acquire(self, keys: Sequence[str], owner: str, ttl: float) -> list[Claim]:
            nonlocal claims
            claims += 1
            if claims == 2:
                await first.read(account)
                await raw.delete(lease_key(CHAIN, account, [NATIVE_TOKEN]))
            return await real.acquire(keys, owner, ttl)

        async def release(self, keys: Sequence[str], owner: str) -> None:
            await real.release(keys, owner)

    shared._leases = Racing()
    followed = await second.read(account)
    assert isinstance(followed, BalanceReading) and followed.raw_amount == 100
    assert claims >= 2 and second.provider.rounds == 0
    assert second.outcomes() == {"waited": 1}
