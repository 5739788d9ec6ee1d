"""The Redis `Cache`: shared by every worker and replica pointed at the same server."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from settings import Secret


class RedisCache:
    """`Cache` on one Redis server: MGET for reads, one pipeline of SET EX for writes.

    Keys hash-tag the account (`{…}`), so a Redis Cluster keeps one account's keys together.
    """

    def __init__(self, client: Redis) -> None:
        self._client = client

    @classmethod
    def from_url(cls, url: Secret, timeout: float = 1.0) -> RedisCache:
        client = Redis.from_url(
            url.value,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        return cls(client)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        values = await self._client.mget(list(keys))
        return [v if isinstance(v, bytes) else None for v in values]

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(key, value, ex=ttl)
            await pipe.execute()

    async def close(self) -> None:
        await self._client.aclose()
