"""RedisCache against a real redis-server: batched reads and writes, retention TTL, close."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from chains.cache.redis import RedisCache
from settings import Secret


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_url(Secret(redis_url))
    yield cache
    await cache.close()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_values_round_trip_in_key_order_with_none_for_misses(cache: RedisCache) -> None:
    await cache.set_many({"t:redis:a": b"\x00\xffbinary", "t:redis:{acct}:b": b"2"}, ttl=60)
    found = await cache.get_many(["t:redis:{acct}:b", "t:redis:missing", "t:redis:a"])
    assert found == [b"2", None, b"\x00\xffbinary"]


async def test_every_key_of_a_batch_gets_the_retention_ttl(cache: RedisCache, raw: Redis) -> None:
    await cache.set_many({"t:redis:ttl1": b"1", "t:redis:ttl2": b"2"}, ttl=120)
    ttls = [await raw.ttl("t:redis:ttl1"), await raw.ttl("t:redis:ttl2")]
    assert all(110 < t <= 120 for t in ttls), ttls


async def test_a_value_that_is_not_a_string_reads_as_a_miss(cache: RedisCache, raw: Redis) -> None:
    await raw.delete("t:redis:list")
    await raw.rpush("t:redis:list", "x")  # MGET answers nil for keys of another type
    assert await cache.get_many(["t:redis:list"]) == [None]


async def test_values_written_by_one_client_serve_another(redis_url: str) -> None:
    """What one worker wrote (then closed its client) another worker reads."""
    cache = RedisCache.from_url(Secret(redis_url))
    await cache.set_many({"t:redis:closed": b"1"}, ttl=60)
    await cache.close()
    reopened = RedisCache.from_url(Secret(redis_url))
    assert await reopened.get_many(["t:redis:closed"]) == [b"1"]
    await reopened.close()
