"""The Redis `Cache`: shared by every worker and replica pointed at the same Redis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chains.cache.clients import RedisClient, is_cluster, redis_client
from settings import CacheConfig, Secret


class RedisCache:
    """`Cache` on Redis: MGET for reads, one pipeline of SET EX for writes.

    Keys hash-tag the account (`{…}`), so a Redis Cluster keeps one account's keys together;
    one batch may still name many accounts, so on a cluster the MGET is split by slot
    (`mget_nonatomic`, one MGET per slot, sent concurrently) and the pipeline by node. Reads
    of a cache need no atomicity across keys: each value stands alone.
    """

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._cluster = is_cluster(client)

    @classmethod
    def from_url(cls, url: Secret, timeout: float = 1.0) -> RedisCache:
        """One server (`redis_mode` single) at `url`."""
        return cls.from_settings(CacheConfig.model_validate({"redis_url": url}), timeout)

    @classmethod
    def from_settings(cls, cache: CacheConfig, timeout: float = 1.0) -> RedisCache:
        client = redis_client(cache, timeout=timeout)
        if client is None:
            raise ValueError("no [cache] redis_url to connect to")
        return cls(client)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if self._cluster:
            values = await self._client.mget_nonatomic(list(keys))  # type: ignore[union-attr]
        else:
            values = await self._client.mget(list(keys))
        return [v if isinstance(v, bytes) else None for v in values]

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(key, value, ex=ttl)
            await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()
