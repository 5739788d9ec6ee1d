"""One contract, two stores: Redis (a real redis-server) and the SQLite file.

Each store must check and charge atomically: whatever the concurrency, a key with N credits
pays for exactly N lookups, a limit of N admits exactly N, and a refused charge writes
nothing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from chains.cache.clients import redis_client
from metering import keys
from metering.keys import KeyRecord
from metering.redis_store import RedisStore
from metering.sqlite_store import SqliteStore
from metering.store import AdminError, Charge, Usage
from metering.windows import State, evaluate
from settings import CacheConfig
from tests.conftest import redis_cache_table

MINUTE = 60_000
REDIS_MODES = ("redis", "redis-cluster", "redis-sentinel")
Store = RedisStore | SqliteStore


@pytest.fixture(
    params=[
        "sqlite",
        *(pytest.param(mode, marks=pytest.mark.integration) for mode in REDIS_MODES),
    ]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Each store; Redis in each mode (a cluster, where every script must stay in one slot,
    and a sentinel-managed master), through the client builder the service uses."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path / "data")
        yield sqlite
        await sqlite.aclose()
        return
    async with redis_store_in(request.param, request) as redis_store:
        yield redis_store


@pytest.fixture(params=[pytest.param(m, marks=pytest.mark.integration) for m in REDIS_MODES])
async def redis_store(request: pytest.FixtureRequest) -> AsyncIterator[RedisStore]:
    async with redis_store_in(request.param, request) as store:
        yield store


@asynccontextmanager
async def redis_store_in(param: str, request: pytest.FixtureRequest) -> AsyncIterator[RedisStore]:
    """An emptied `RedisStore` on the session's Redis of mode `param` (redis, redis-cluster or
    redis-sentinel), through the client builder the service uses."""
    mode = param.removeprefix("redis-") if param != "redis" else "single"
    cache = CacheConfig.model_validate(redis_cache_table(mode, request))
    client = redis_client(cache, timeout=5)
    assert client is not None
    await client.flushdb()
    yield RedisStore(client)
    await client.aclose()


async def new_key(
    store: Store, name: str, credits: int | None = None, plan: str | None = None
) -> str:
    key = keys.new_key()
    record = KeyRecord(keys.digest(key), name, plan, credits, False, time.time())
    await store.create(record)
    return keys.digest(key)


def keyed(digest: str, cost: int, *usage: Usage) -> Charge:
    return Charge(f"key:{digest}", digest, usage, cost)


def anonymous(address: str, *usage: Usage) -> Charge:
    return Charge(f"ip:{address}", None, usage, 0)


def per_minute(limit: int, units: int = 1, rate_class: str = "balance") -> Usage:
    return Usage(rate_class, units, limit, MINUTE)  # type: ignore[arg-type]


async def test_keys_are_found_by_digest_and_names_are_never_reused(store: Store) -> None:
    digest = await new_key(store, "alice", credits=50, plan="pro")
    found = await store.lookup(digest)
    assert found is not None
    assert (found.name, found.plan, found.credits, found.revoked) == ("alice", "pro", 50, False)
    assert await store.lookup(keys.digest(keys.new_key())) is None
    with pytest.raises(AdminError, match="exists"):
        await new_key(store, "alice")
    await store.revoke("alice")
    with pytest.raises(AdminError, match="exists"):
        await new_key(store, "alice")
    assert [r.name for r in await store.records()] == ["alice"]


async def test_only_a_revoked_key_is_deleted_and_then_its_name_is_free(store: Store) -> None:
    digest = await new_key(store, "acme", credits=5)
    with pytest.raises(AdminError, match="revoke it first"):
        await store.delete("acme")
    assert await store.lookup(digest) is not None  # an active key is never deleted
    with pytest.raises(AdminError, match="no key named"):
        await store.delete("nobody")
    await store.revoke("acme")
    deleted = await store.delete("acme")
    assert (deleted.name, deleted.revoked) == ("acme", True)
    assert await store.lookup(digest) is None
    assert await store.records() == []
    again = await new_key(store, "acme", credits=7)  # the name is free again, for a new key
    found = await store.lookup(again)
    assert found is not None and (found.credits, found.revoked) == (7, False)
    refused = await store.charge(keyed(digest, 1))
    assert refused.outcome == "invalid_key"  # the deleted key stays refused


async def test_a_redis_delete_stopped_halfway_leaves_the_name_free(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting is two commands. Stopped between them (the connection lost), the name must
    not be left leading to nothing: neither made again ("exists") nor deleted ("no key")."""
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    store = RedisStore(client)
    digest = await new_key(store, "acme")
    await store.revoke("acme")

    async def lost(*names: object) -> int:
        raise redis.exceptions.ConnectionError("lost")

    monkeypatch.setattr(client, "delete", lost)
    with pytest.raises(redis.exceptions.ConnectionError):
        await store.delete("acme")
    monkeypatch.undo()
    assert "acme" not in {r.name for r in await store.records()}
    await new_key(store, "acme")  # the name is free
    record = await store.lookup(digest)
    assert record is None or record.revoked  # what is left of the old key stays refused
    await client.aclose()


async def test_each_store_says_where_its_keys_are_and_answers_a_ping(
    store: Store, tmp_path: Path
) -> None:
    expected = (
        "Redis" if isinstance(store, RedisStore) else str(tmp_path / "data" / "metering.sqlite3")
    )
    assert store.where == expected
    await store.ping()


async def test_credits_are_added_never_below_zero_and_only_to_keys_with_a_balance(
    store: Store,
) -> None:
    await new_key(store, "metered", credits=5)
    await new_key(store, "unlimited")
    assert (await store.credit("metered", 10)).credits == 15
    assert (await store.credit("metered", -15)).credits == 0
    with pytest.raises(AdminError, match="cannot take"):
        await store.credit("metered", -1)
    with pytest.raises(AdminError, match="no credit balance"):
        await store.credit("unlimited", 10)
    with pytest.raises(AdminError, match="no key named"):
        await store.credit("nobody", 10)
    with pytest.raises(AdminError, match="no key named"):
        await store.revoke("nobody")


QUADRILLION = 10**15
"""The documented most a key may hold (`keys.MAX_CREDITS`)."""


async def test_credits_are_exact_integers_up_to_the_maximum(store: Store) -> None:
    """Issue 18, defect 5: Redis's Lua computed in doubles (10^20 came back as "1e+20", and
    every lookup of the key failed from then on); SQLite overflowed into a REAL."""
    digest = await new_key(store, "rich", credits=QUADRILLION - 7)
    assert (await store.credit("rich", 7)).credits == QUADRILLION
    verdict = await store.charge(keyed(digest, 1))
    assert (verdict.outcome, verdict.credits) == ("admitted", QUADRILLION - 1)
    record = await store.lookup(digest)
    assert record is not None and record.credits == QUADRILLION - 1
    assert (await store.credit("rich", 1)).credits == QUADRILLION
    with pytest.raises(AdminError, match="at most 1,000,000,000,000,000"):
        await store.credit("rich", 1)
    with pytest.raises(AdminError, match="at most 1,000,000,000,000,000"):
        await new_key(store, "richer", credits=QUADRILLION + 1)
    again = await store.lookup(digest)
    assert again is not None and again.credits == QUADRILLION


async def test_a_corrupt_balance_is_unreadable_never_unlimited_and_never_a_crash(
    store: Store, tmp_path: Path
) -> None:
    """A balance that is not an integer from 0 to 10^15 (written by an older version, or by
    hand) refuses the key's requests; `keys list` shows it and lists every other key."""
    digest = await new_key(store, "broken", credits=10)
    await new_key(store, "fine", credits=10)
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as db:  # 2^63 - 1 plus 1 overflows into a REAL
            overflow = "UPDATE api_keys SET credits = 9223372036854775807 + 1 WHERE name = ?"
            db.execute(overflow, ("broken",))
    else:
        await store._client.hset(f"bg:v1:{{key:{digest}}}:record", "credits", "1e+20")
    record = await store.lookup(digest)
    assert record is not None and record.credits is None and record.damaged
    assert (await store.charge(keyed(digest, 1))).outcome == "unreadable"
    listed = {r.name: r for r in await store.records()}
    assert listed["broken"].damaged and listed["fine"].credits == 10
    with pytest.raises(AdminError, match="unreadable"):
        await store.credit("broken", 5)


async def test_a_key_with_50_credits_pays_for_two_20_lookup_requests_then_is_refused(
    store: Store,
) -> None:
    digest = await new_key(store, "alice", credits=50)
    first = await store.charge(keyed(digest, 20))
    second = await store.charge(keyed(digest, 20))
    assert (first.outcome, first.credits, second.outcome, second.credits) == (
        "admitted",
        30,
        "admitted",
        10,
    )
    third = await store.charge(keyed(digest, 20))
    assert (third.outcome, third.credits) == ("insufficient_credits", 10)
    record = await store.lookup(digest)
    assert record is not None
    assert (record.credits, record.spent, record.requests) == (10, 40, 2)
    assert record.last_used is not None


async def test_keys_without_a_balance_are_never_refused_for_credits_but_count_spending(
    store: Store,
) -> None:
    digest = await new_key(store, "unlimited")
    for _ in range(3):
        verdict = await store.charge(keyed(digest, 1_000))
        assert (verdict.outcome, verdict.credits) == ("admitted", None)
    record = await store.lookup(digest)
    assert record is not None and (record.spent, record.requests) == (3_000, 3)


async def test_revoked_and_unknown_keys_are_refused_by_the_charge_itself(store: Store) -> None:
    digest = await new_key(store, "alice", credits=10)
    await store.revoke("alice")
    assert (await store.charge(keyed(digest, 1))).outcome == "invalid_key"
    ghost = keys.digest(keys.new_key())
    assert (await store.charge(keyed(ghost, 0))).outcome == "invalid_key"


async def test_concurrent_charges_never_spend_more_than_the_balance(store: Store) -> None:
    digest = await new_key(store, "alice", credits=25)
    verdicts = await asyncio.gather(*(store.charge(keyed(digest, 1)) for _ in range(40)))
    assert sum(v.outcome == "admitted" for v in verdicts) == 25
    record = await store.lookup(digest)
    assert record is not None and record.credits == 0


async def test_a_limit_of_30_a_minute_admits_30_and_says_when_to_retry(store: Store) -> None:
    verdicts = [await store.charge(anonymous("192.0.2.1", per_minute(30))) for _ in range(31)]
    assert [v.outcome for v in verdicts] == ["admitted"] * 30 + ["rate_limited"]
    (_, last_admitted), (_, refused) = verdicts[29].quotas[0], verdicts[30].quotas[0]
    assert last_admitted.remaining == 0 and last_admitted.limit == 30
    assert refused.retry is not None and refused.retry > verdicts[30].now
    assert refused.retry - verdicts[30].now <= 2 * MINUTE
    other = await store.charge(anonymous("192.0.2.2", per_minute(30)))  # per subject
    assert other.outcome == "admitted"


async def test_a_refused_charge_writes_nothing(store: Store) -> None:
    digest = await new_key(store, "alice", credits=100)
    tight, loose = per_minute(1, rate_class="balance"), per_minute(100, rate_class="token")
    assert (await store.charge(keyed(digest, 5, tight, loose))).outcome == "admitted"
    refused = await store.charge(keyed(digest, 5, tight, loose))
    assert refused.outcome == "rate_limited"
    after = await store.charge(keyed(digest, 5, loose))
    assert after.quotas[0][1].remaining == 98  # the refused request did not count
    assert after.credits == 90  # and did not pay


class Resent:
    """A registered script that remembers each call, to send it again as redis-py does when
    a connection drops after the script ran (the reply is lost, the command re-sent)."""

    def __init__(self, script: Callable[..., Awaitable[Any]]) -> None:
        self.script = script
        self.calls: list[tuple[list[str], list[Any], Any]] = []

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        reply = await self.script(keys=keys, args=args)
        self.calls.append((keys, args, reply))
        return reply

    async def again(self) -> Any:
        keys, args, _ = self.calls[-1]
        return await self.script(keys=keys, args=args)


async def test_a_re_sent_charge_or_credit_counts_once(redis_store: RedisStore) -> None:
    digest = await new_key(redis_store, "retried", credits=10)
    charge = redis_store._charge = Resent(redis_store._charge)  # type: ignore[assignment]
    credit = redis_store._credit = Resent(redis_store._credit)  # type: ignore[assignment]
    assert (await redis_store.charge(keyed(digest, 4, per_minute(5)))).credits == 6
    assert await charge.again() == charge.calls[-1][2]  # the first reply, nothing charged
    await redis_store.credit("retried", 100)
    assert await credit.again() == credit.calls[-1][2]
    record = await redis_store.lookup(digest)
    assert record is not None and record.credits == 106 and record.requests == 1
    verdict = await redis_store.charge(keyed(digest, 4, per_minute(5)))
    assert verdict.credits == 102 and verdict.quotas[0][1].remaining == 3  # a new call counts
    refused = await redis_store.charge(keyed(digest, 500, per_minute(5)))
    assert refused.outcome == "insufficient_credits"
    await redis_store.credit("retried", 400)
    assert (await charge.again())[0] == b"admitted"  # a refusal kept nothing: decided afresh


async def test_a_concurrent_burst_admits_exactly_the_limit(store: Store) -> None:
    burst = [store.charge(anonymous("192.0.2.3", per_minute(10))) for _ in range(30)]
    verdicts = await asyncio.gather(*burst)
    assert sum(v.outcome == "admitted" for v in verdicts) == 10


@pytest.mark.integration
async def test_redis_decides_exactly_as_the_python_windows_do(redis_url: str) -> None:
    """The Lua script and `windows.evaluate` are one definition: replay a random sequence of
    1-second windows through both, at the times Redis decided, and compare every quota."""
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    store, rng = RedisStore(client), random.Random(7)
    state: State | None = None
    seen: set[str] = set()
    try:
        for _ in range(40):
            units = rng.randint(1, 3)
            verdict = await store.charge(anonymous("192.0.2.9", Usage("balance", units, 5, 1_000)))
            expected_state, expected = evaluate(state, units, 5, 1_000, verdict.now)
            assert verdict.quotas[0][1] == expected
            assert (verdict.outcome == "admitted") == expected.admitted
            seen.add(verdict.outcome)
            if expected.admitted:
                state = expected_state
            await asyncio.sleep(rng.choice([0, 0, 0, 0.05, 0.3]))
    finally:
        await client.aclose()
    assert seen == {"admitted", "rate_limited"} and state is not None and state.window > 0


@pytest.mark.integration
async def test_redis_forgets_a_subject_two_periods_after_its_last_call(redis_url: str) -> None:
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    try:
        await RedisStore(client).charge(anonymous("192.0.2.4", per_minute(5)))
        (window,) = [k for k in await client.keys("*") if b"rl:balance" in k]
        assert 0 < await client.pttl(window) <= 2 * MINUTE + 1_000
    finally:
        await client.aclose()


def test_sqlite_sweeps_windows_it_no_longer_needs(tmp_path: Path) -> None:
    clock = [1_700_000_000.0]
    store = SqliteStore(tmp_path, clock=lambda: clock[0])

    async def traffic() -> None:
        for i in range(300):  # 300 subjects, once each; the sweep runs every 256 charges
            await store.charge(anonymous(f"192.0.2.{i % 250}-{i}", per_minute(5)))
            clock[0] += 1
        await store.aclose()

    asyncio.run(traffic())
    with sqlite3.connect(store.path) as db:
        (rows,) = db.execute("SELECT count(*) FROM windows").fetchone()
    assert rows <= 300 - 100  # the sweep at 256 s dropped every window older than 2 minutes


def _charge_many(path: str, digest: str, count: int, start: float) -> int:
    async def run() -> int:
        store = SqliteStore(Path(path))
        await asyncio.sleep(max(0.0, start - time.time()))  # both processes start together
        verdicts = [await store.charge(keyed(digest, 1, per_minute(1_000))) for _ in range(count)]
        await store.aclose()
        return sum(v.outcome == "admitted" for v in verdicts)

    return asyncio.run(run())


def test_sqlite_worker_processes_share_credits_exactly(tmp_path: Path) -> None:
    """Two processes (as two uvicorn workers) on one file: 60 credits buy 60 lookups."""
    store = SqliteStore(tmp_path)
    digest = asyncio.run(new_key(store, "shared", credits=60))
    asyncio.run(store.aclose())
    start = time.time() + 1.0
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        admitted = pool.starmap(_charge_many, [(str(tmp_path), digest, 50, start)] * 2)
    assert sum(admitted) == 60 and min(admitted) > 0
    record = asyncio.run(_lookup(tmp_path, digest))
    assert record is not None and (record.credits, record.spent) == (0, 60)


async def _lookup(path: Path, digest: str) -> KeyRecord | None:
    store = SqliteStore(path)
    try:
        return await store.lookup(digest)
    finally:
        await store.aclose()
