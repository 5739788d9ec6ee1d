"""Keeps the service answering from the chain when the shared cache fails or stalls.

`ResilientCache` runs every backend call through a `Breaker`: failures and stalls become
misses and dropped writes, and after one, the backend is skipped (instantly) until a probe
finds it back. A lost write only costs a later upstream read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from chains.cache.base import Cache
from chains.cache.breaker import Breaker

log = logging.getLogger(__name__)


class ResilientCache:
    """A `Cache` that never raises and never makes a caller wait on a sick backend."""

    def __init__(self, backend: Cache, breaker: Breaker) -> None:
        self._backend = backend
        self._breaker = breaker

    @property
    def healthy(self) -> bool:
        return self._breaker.healthy

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        missed: list[bytes | None] = [None] * len(keys)
        return await self._breaker.run(lambda: self._backend.get_many(keys), missed)

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        if items:
            await self._breaker.run(lambda: self._backend.set_many(items, ttl), None)

    async def close(self) -> None:
        try:
            await self._backend.close()
        except Exception as exc:
            log.warning("closing the cache failed: %s", type(exc).__name__)
