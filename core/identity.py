"""Values derived from immutable objects, remembered across requests by those objects' identity.

A warm answer is made of objects the caches already hold: the same `BalanceReading` and
`TokenMeta` instances, request after request, until a new read replaces them. What is built
from them (a row, its GraphQL object, its completed fields) is the same each time, so it is
built once and found again by the identities of what it was built from. Hashing the objects
by value would cost as much as rebuilding; identity costs nothing.

An entry holds its anchors, so an anchor cannot be collected and its `id` reused while the
entry lives, and a lookup checks the first anchor is the very object (`is`). Entries leave
oldest first beyond `capacity`: memory is bounded whatever callers send.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """Values by the identity of an anchor object (plus objects it was built with, and an
    optional cheap hashable tag).

    The entry is found by the first anchor's identity (and the tag); the others must be
    the same objects, or at least equal ones (built from equal values, the value is the
    same), else it is rebuilt and replaces the entry."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[Hashable, tuple[tuple[object, ...], V]] = {}

    def get(self, anchors: tuple[object, ...], tag: Hashable = None) -> V | None:
        entry = self._entries.get((tag, id(anchors[0])))
        # Same id while the entry holds the first anchor: the same object. The others must
        # match too (`!=` on tuples tries `is` first).
        if entry is None or entry[0] != anchors:
            return None
        return entry[1]

    def put(self, anchors: tuple[object, ...], value: V, tag: Hashable = None) -> V:
        entries = self._entries
        entries[(tag, id(anchors[0]))] = (anchors, value)
        if len(entries) > self._capacity:
            del entries[next(iter(entries))]
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
