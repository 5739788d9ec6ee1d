"""Automatic Persisted Queries shared by every replica: bounded, and only valid documents.

In one process the `DocumentCache` already knows every document it validated by digest.
`RedisPersistedQueries` lets the other replicas learn them: documents live in one hash with
an index of when each was stored, both under one hash tag (one cluster slot), and one Lua
script adds a document, drops those older than the TTL and trims the oldest beyond the entry
limit. The store can never hold more than `max_entries` documents of at most
`max_document_bytes` each (the caller refuses larger ones), whatever clients send.
"""

from __future__ import annotations

from typing import Protocol

from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient

_DOCS = "bg:v1:{apq}:docs"
_INDEX = "bg:v1:{apq}:index"
_PUT = """
local docs, index = KEYS[1], KEYS[2]
local digest, text, ttl, cap = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local clock = redis.call('TIME')  -- the server's clock, to the microsecond: every replica agrees
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('HSET', docs, digest, text)
redis.call('ZADD', index, now, digest)
local expired = redis.call('ZRANGEBYSCORE', index, '-inf', now - ttl)
local over = redis.call('ZCARD', index) - cap
if over > 0 then
  for _, d in ipairs(redis.call('ZRANGE', index, 0, over - 1)) do table.insert(expired, d) end
end
for _, d in ipairs(expired) do
  redis.call('HDEL', docs, d)
  redis.call('ZREM', index, d)
end
return #expired
"""


class PersistedQueries(Protocol):
    """Query texts by SHA-256 digest, shared beyond this process.

    `get` answers `None` for an unknown digest (or when the store is unreachable: the client
    then sends the full query, which still works); `put` may drop a write the same way.
    """

    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, text: str) -> None: ...


class LocalOnly:
    """No shared store: the process's document cache is the only one (single replica)."""

    async def get(self, digest: str) -> str | None:
        return None

    async def put(self, digest: str, text: str) -> None:
        return None


class RedisPersistedQueries:
    """Persisted queries in Redis, at most `max_entries`, each kept at most `ttl` seconds."""

    def __init__(
        self, client: RedisClient, breaker: Breaker, *, max_entries: int, ttl: int
    ) -> None:
        self._client = client
        self._breaker = breaker
        self._max_entries = max_entries
        self._ttl = ttl
        self._put = client.register_script(_PUT)

    async def get(self, digest: str) -> str | None:
        """An unreachable store is a miss: the client sends the full query, which works."""
        found = await self._breaker.run(lambda: self._client.hget(_DOCS, digest), None)
        return found.decode() if isinstance(found, bytes) else None

    async def put(self, digest: str, text: str) -> None:
        await self._breaker.run(
            lambda: self._put(
                keys=[_DOCS, _INDEX], args=[digest, text, self._ttl, self._max_entries]
            ),
            None,
        )
