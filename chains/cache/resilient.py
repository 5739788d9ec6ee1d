"""Keeps the service answering from the chain when the cache backend fails.

`ResilientCache` turns backend failures into misses and dropped writes, and says so once in
the log rather than once per request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from chains.cache.base import Cache

log = logging.getLogger(__name__)


class ResilientCache:
    """Turns backend failures into misses and dropped writes, logging each outage once."""

    def __init__(self, backend: Cache, name: str) -> None:
        self._backend = backend
        self._name = name
        self._down = False

    @property
    def healthy(self) -> bool:
        return not self._down

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        try:
            found = await self._backend.get_many(keys)
        except Exception as exc:  # any backend failure means "no cached value"
            self._failed(exc)
            return [None] * len(keys)
        self._recovered()
        return found

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        if not items:
            return
        try:
            await self._backend.set_many(items, ttl)
        except Exception as exc:  # a lost write only costs a later upstream read
            self._failed(exc)
            return
        self._recovered()

    async def close(self) -> None:
        try:
            await self._backend.close()
        except Exception as exc:
            log.warning("closing %s cache failed: %s", self._name, type(exc).__name__)

    def _failed(self, exc: Exception) -> None:
        if not self._down:
            self._down = True
            log.error(
                "%s cache unavailable (%s); serving straight from the chain until it returns",
                self._name,
                type(exc).__name__,
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            log.warning("%s cache is back", self._name)
