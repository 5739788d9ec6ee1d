"""Byte caches behind one batch-first protocol: in-process (default) or Redis.

The cache stores opaque bytes with a retention TTL; freshness (`maxAge`) is decided by the
reader from the read time stored inside each value, so one stored value serves callers with
different freshness needs. `ResilientCache` keeps the service answering from the chain when
the backend fails, and says so once in the log rather than once per request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Cache(Protocol):
    """Batch get/set of bytes values.

    - `get_many` returns one entry per key, `None` for a miss, in key order.
    - `set_many` stores every item for `ttl` seconds (the retention, not the freshness).
    - Backend failures raise; wrap in `ResilientCache` to turn them into misses.
    """

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """An in-process LRU with per-entry expiry; the default when no Redis is configured."""

    def __init__(
        self, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = self._clock()
        found: list[bytes | None] = []
        for key in keys:
            entry = self._entries.get(key)
            if entry is None or entry[0] <= now:
                self._entries.pop(key, None)
                found.append(None)
            else:
                self._entries.move_to_end(key)
                found.append(entry[1])
        return found

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None:
        expires = self._clock() + ttl
        for key, value in items.items():
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()


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
