"""RedisLeases against real Redis in every mode (one server, a 3+3 Cluster, Sentinel): one
holder at a time, only the owner releases, a lease expires by itself, a sick Redis answers
UNAVAILABLE, and a lease shares its slot with the values it guards."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from chains.cache import codec
from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient, redis_client
from chains.cache.lease import Claim, RedisLeases, lease_key
from core.models import NATIVE_TOKEN, BalanceKey, TokenRef
from settings import CacheConfig
from tests.conftest import RedisServer, redis_cache_table

pytestmark = pytest.mark.integration

USDC = TokenRef("0x" + "c0" * 20)


@pytest.fixture(params=["single", "cluster", "sentinel"])
async def raw(request: pytest.FixtureRequest) -> AsyncIterator[RedisClient]:
    """A client in each Redis mode: on a cluster, a lease batch spans slots and masters."""
    config = CacheConfig.model_validate(redis_cache_table(request.param, request))
    client = redis_client(config, timeout=5)
    assert client is not None
    yield client
    await client.aclose()


def fresh_key() -> str:
    return lease_key("eth", "0x" + secrets.token_hex(20), [NATIVE_TOKEN, USDC])


async def test_one_holder_at_a_time_and_only_the_owner_releases(raw: RedisClient) -> None:
    leases = RedisLeases(raw, Breaker("redis", cooldown=5))
    key, other = fresh_key(), fresh_key()
    assert await leases.acquire([key, other], "a", ttl=30) == [Claim.ACQUIRED] * 2
    assert await leases.acquire([key], "b", ttl=30) == [Claim.HELD]
    await leases.release([key], "b")  # not b's: still a's
    assert await leases.acquire([key], "b", ttl=30) == [Claim.HELD]
    await leases.release([key, other], "a")
    assert await leases.acquire([key], "b", ttl=30) == [Claim.ACQUIRED]
    assert await raw.get(key) == b"b"


async def test_a_lease_whose_holder_never_releases_it_expires(raw: RedisClient) -> None:
    leases = RedisLeases(raw, Breaker("redis", cooldown=5))
    key = fresh_key()
    assert await leases.acquire([key], "dead", ttl=0.2) == [Claim.ACQUIRED]
    assert 0 < await raw.pttl(key) <= 200
    await asyncio.sleep(0.3)
    assert await leases.acquire([key], "next", ttl=30) == [Claim.ACQUIRED]


async def test_a_frozen_redis_is_unavailable_and_then_skipped_at_once() -> None:
    with RedisServer() as server:
        client = Redis.from_url(server.url, socket_timeout=5)
        leases = RedisLeases(client, Breaker("redis", cooldown=60, threshold=1, timeout=0.2))
        key = fresh_key()
        server.freeze()
        try:
            assert await leases.acquire([key], "a", ttl=30) == [Claim.UNAVAILABLE]
            loop = asyncio.get_running_loop()
            started = loop.time()
            assert await leases.acquire([key], "a", ttl=30) == [Claim.UNAVAILABLE]
            await leases.release([key], "a")  # never raises
            assert loop.time() - started < 0.05  # the breaker is open: no second timeout
        finally:
            server.thaw()
            await client.aclose()


def test_a_lease_lives_in_the_slot_of_the_values_it_guards() -> None:
    """So a Redis Cluster keeps a lease and its account's balances on one node."""
    account = "0x" + "ab" * 20
    key = lease_key("eth", account, [USDC, NATIVE_TOKEN])
    assert key == lease_key("eth", account, [NATIVE_TOKEN, USDC, USDC])  # a set, any order
    assert key != lease_key("eth", account, [NATIVE_TOKEN])
    assert key != lease_key("base", account, [NATIVE_TOKEN, USDC])
    value = codec.balance_key(BalanceKey("eth", account, USDC))
    assert key_slot(key.encode()) == key_slot(value.encode())
    assert key_slot(key.encode()) != key_slot(lease_key("eth", "0x" + "cd" * 20, [USDC]).encode())
