"""Values derived from immutable objects, remembered across requests by those objects' identity.

A warm answer is made of objects the caches already hold: the same `BalanceReading` and
`TokenMeta` instances, request after request, until a new read replaces them. What is built
from them (a row, its GraphQL object, its completed fields) is the same each time, so it is
built once and found again by the identities of what it was built from. Hashing the objects
by value would cost as much as rebuilding; identity costs nothing.

An entry holds its anchors, so an anchor cannot be collected and its `id` reused while the
entry lives, and a lookup checks the anchors are the very objects (`is`). Entries leave
oldest first beyond `capacity`: memory is bounded whatever callers send.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """Values by the identity of up to a few anchor objects (plus an optional hashable tag)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[Hashable, tuple[tuple[object, ...], V]] = {}

    def get(self, anchors: tuple[object, ...], tag: Hashable = None) -> V | None:
        entry = self._entries.get((tag, *map(id, anchors)))
        if entry is None or not all(a is b for a, b in zip(entry[0], anchors, strict=True)):
            return None
        return entry[1]

    def put(self, anchors: tuple[object, ...], value: V, tag: Hashable = None) -> V:
        entries = self._entries
        entries[(tag, *map(id, anchors))] = (anchors, value)
        if len(entries) > self._capacity:
            del entries[next(iter(entries))]
        return value

    def __len__(self) -> int:
        return len(self._entries)
