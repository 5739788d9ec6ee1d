"""A chain's newest head, shared by everything in the process that needs it and, with Redis,
by every process and replica for a few seconds.

History and discovery ask for the head number before most reads (`Timelines.head`), and every
live-balance follower polls it. Without sharing, N replicas each poll every chain; with a
shared cache, whoever finds the entry older than `ttl` reads the node and writes what it saw,
and the others take that. The trade-off: a replica may learn of a new block up to `ttl`
seconds after another did, and a number read from another replica's node may be one its own
node has not reached yet (a read at it is then refused, and retried at the next head).

Values are small JSON documents decoded strictly: anything unexpected is a miss.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chains.cache.base import Cache

_HASH = re.compile(r"0x[0-9a-f]{64}")


@dataclass(frozen=True)
class Head:
    """A block at the tip of a chain. Families whose heads come without hashes (a number
    polled from a node) leave `hash` and `parent` unknown; `bloom` (EVM `logsBloom`) never
    travels through the shared cache."""

    number: int
    hash: str | None = None
    parent: str | None = None
    timestamp: int | None = None
    """Unix seconds of the block, when known."""
    bloom: bytes | None = None


class SharedHeads:
    """One chain's newest head: this process's own for `ttl` seconds, else the shared cache's
    (a `ResilientCache`, whose failures are misses), else read from the node by the caller."""

    def __init__(
        self,
        chain: str,
        cache: Cache | None,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._chain = chain
        self._cache = cache
        self._ttl = ttl
        self._clock = clock
        self._wall = wall
        self._known: tuple[float, Head] | None = None

    @property
    def ttl(self) -> float:
        return self._ttl

    async def get(self) -> Head | None:
        """A head seen at most `ttl` seconds ago, here or by another process."""
        known = self._known
        if known is not None and self._clock() - known[0] < self._ttl:
            return known[1]
        if self._cache is None:
            return None
        (data,) = await self._cache.get_many([self._key])
        found = None if data is None else _decode(data)
        if found is None:
            return None
        head, read_at = found
        age = 0.0 if read_at is None else max(0.0, self._wall() - read_at)
        if age >= self._ttl:
            return None
        self._known = (self._clock() - age, head)  # as old here as it is: never kept twice
        return head

    async def put(self, head: Head) -> None:
        """What this process just read from its node (for everyone, for `ttl` seconds)."""
        self._known = (self._clock(), head)
        if self._cache is not None:
            body = _encode(head, self._wall())
            await self._cache.set_many({self._key: body}, max(1, math.ceil(self._ttl)))

    async def number(self, read: Callable[[], Awaitable[int]]) -> int:
        """The head's number: shared if fresh, else `read` from the node (and shared)."""
        head = await self.get()
        if head is None:
            head = Head(await read())
            await self.put(head)
        return head.number

    @property
    def _key(self) -> str:
        return f"bg:v1:head:{self._chain}"


def _encode(head: Head, read_at: float) -> bytes:
    body = {"n": head.number, "h": head.hash, "p": head.parent, "t": head.timestamp}
    return json.dumps(body | {"r": read_at}, separators=(",", ":")).encode()


def _decode(data: bytes) -> tuple[Head, float | None] | None:
    """The head and when it was read (unix seconds; absent in an older writer's entry)."""
    try:
        body = json.loads(data)
        number, hash_, parent, stamp = body["n"], body["h"], body["p"], body["t"]
    except (ValueError, TypeError, KeyError):
        return None
    read_at = body.get("r")
    if read_at is not None and (type(read_at) not in (int, float) or not read_at >= 0):
        return None
    if type(number) is not int or number < 0:
        return None
    if not all(v is None or (isinstance(v, str) and _HASH.fullmatch(v)) for v in (hash_, parent)):
        return None
    if stamp is not None and (type(stamp) is not int or stamp < 0):
        return None
    return Head(number, hash_, parent, stamp), read_at
