"""The in-process cache: an LRU with per-entry expiry, the default when no Redis is set."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence


class MemoryCache:
    """An in-process LRU with per-entry expiry; the default when no Redis is configured."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
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
