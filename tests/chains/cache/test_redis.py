"""RedisCache against real Redis in every mode (one server, a 3+3 Cluster, a Sentinel-managed
master): batched reads and writes, retention TTL, close.

A batch names many accounts, so on a cluster its keys fall in many slots on every master.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.exceptions import RedisClusterException

from chains.cache.clients import RedisClient, redis_client
from chains.cache.redis import RedisCache
from settings import CacheConfig, Secret
from tests.conftest import redis_cache_table

pytestmark = pytest.mark.integration


@pytest.fixture(params=["single", "cluster", "sentinel"])
def config(request: pytest.FixtureRequest) -> CacheConfig:
    return CacheConfig.model_validate(redis_cache_table(request.param, request))


@pytest.fixture
async def cache(config: CacheConfig) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_settings(config)
    yield cache
    await cache.close()


@pytest.fixture
async def raw(config: CacheConfig) -> AsyncIterator[RedisClient]:
    client = redis_client(config, timeout=5)
    assert client is not None
    yield client
    await client.aclose()


async def test_a_batch_of_200_accounts_round_trips_whatever_their_slots(
    cache: RedisCache, raw: RedisClient, config: CacheConfig
) -> None:
    items = {f"t:redis:{{acct{i}}}:bal": str(i).encode() for i in range(200)}
    await cache.set_many(items, ttl=60)
    assert await cache.get_many([*items, "t:redis:{nobody}:bal"]) == [*items.values(), None]
    if config.redis_mode == "cluster":  # what the split avoids: one MGET over many slots
        with pytest.raises(RedisClusterException, match="same key slot"):
            await raw.mget(list(items))


async def test_values_round_trip_in_key_order_with_none_for_misses(cache: RedisCache) -> None:
    await cache.set_many({"t:redis:a": b"\x00\xffbinary", "t:redis:{acct}:b": b"2"}, ttl=60)
    found = await cache.get_many(["t:redis:{acct}:b", "t:redis:missing", "t:redis:a"])
    assert found == [b"2", None, b"\x00\xffbinary"]


async def test_every_key_of_a_batch_gets_the_retention_ttl(
    cache: RedisCache, raw: RedisClient
) -> None:
    await cache.set_many({"t:redis:ttl1": b"1", "t:redis:ttl2": b"2"}, ttl=120)
    ttls = [await raw.ttl("t:redis:ttl1"), await raw.ttl("t:redis:ttl2")]
    assert all(110 < t <= 120 for t in ttls), ttls


async def test_a_value_that_is_not_a_string_reads_as_a_miss(
    cache: RedisCache, raw: RedisClient
) -> None:
    await raw.delete("t:redis:list")
    await raw.rpush("t:redis:list", "x")  # MGET answers nil for keys of another type
    assert await cache.get_many(["t:redis:list"]) == [None]


async def test_values_written_by_one_client_serve_another(config: CacheConfig) -> None:
    """What one worker wrote (then closed its client) another worker reads."""
    cache = RedisCache.from_settings(config)
    await cache.set_many({"t:redis:closed": b"1"}, ttl=60)
    await cache.close()
    reopened = RedisCache.from_settings(config)
    assert await reopened.get_many(["t:redis:closed"]) == [b"1"]
    await reopened.close()


async def test_from_url_is_one_server(redis_url: str) -> None:
    cache = RedisCache.from_url(Secret(redis_url))
    await cache.set_many({"t:redis:url": b"1"}, ttl=60)
    assert await cache.get_many(["t:redis:url"]) == [b"1"]
    await cache.close()
