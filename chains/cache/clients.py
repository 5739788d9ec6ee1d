"""The one place a Redis client is made, in the `[cache] redis_mode` the settings name.

    single    `Redis.from_url`: one server (or whatever proxy stands at that address)
    cluster   `RedisCluster(startup_nodes=...)`: the URL names seed nodes; the first that
              answers gives the slot map, and the client follows MOVED/ASK and re-reads
              the map when a replica is promoted
    sentinel  `Sentinel(...).master_for(master)`: every new connection asks the sentinels
              where the master is now, so a failover needs no restart

The service, the key CLI and the benches all connect through `redis_client`, so one
configuration means the same Redis to every part. Timeouts are the caller's: the service's
are a backstop behind its `Breaker`, the CLI's the longest it will wait.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel

from settings import CacheConfig
from settings.redis import redis_nodes

RedisClient = Redis | RedisCluster
"""What every Redis user in the service takes: the commands it sends work on either."""


class SentinelRedis(Redis):
    """The master's client, which also closes its connections to the sentinels."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        manager = getattr(self.connection_pool, "sentinel_manager", None)
        for sentinel in getattr(manager, "sentinels", ()):
            await sentinel.aclose()


def redis_client(
    cache: CacheConfig, *, timeout: float, health_check_interval: int = 30
) -> RedisClient | None:
    """A client for `cache.redis_url` in `cache.redis_mode`, or None without a URL. Nothing
    connects until the first command."""
    url = cache.redis_url
    if url is None:
        return None
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "health_check_interval": health_check_interval,
    }
    if cache.redis_mode == "cluster":
        seeds = redis_nodes(url, "cluster")
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in seeds.nodes],
            username=seeds.username,
            password=seeds.password,
            ssl=seeds.tls,
            **options,
        )
    if cache.redis_mode == "sentinel":
        return _sentinel_master(cache, options)
    return Redis.from_url(url.value, **options)


def _sentinel_master(cache: CacheConfig, options: dict[str, Any]) -> Redis:
    assert cache.redis_url is not None
    assert cache.redis_sentinel_master is not None
    target = redis_nodes(cache.redis_url, "sentinel")
    asking = {k: v for k, v in options.items() if k != "health_check_interval"}
    if target.tls:
        asking["ssl"] = True
    sentinel = Sentinel(target.nodes, sentinel_kwargs=asking, **options)
    master: Redis = sentinel.master_for(
        cache.redis_sentinel_master,
        redis_class=SentinelRedis,
        db=target.db,
        username=target.username,
        password=target.password,
        ssl=target.tls,
    )
    return master


def is_cluster(client: RedisClient) -> bool:
    """Whether keys of different slots must be sent apart (MGET) on `client`."""
    return isinstance(client, RedisCluster)
