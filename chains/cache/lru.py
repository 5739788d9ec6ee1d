"""A bounded in-process map: each value until its own expiry, least recently used out first."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Lru(Generic[_K, _V]):
    """At most `size` values, each until its own expiry, least recently used out first."""

    def __init__(self, size: int, clock: Callable[[], float]) -> None:
        self._entries: OrderedDict[_K, tuple[float, _V]] = OrderedDict()
        self._size = size
        self._clock = clock

    def get(self, key: _K) -> _V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: _K, value: _V, ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
