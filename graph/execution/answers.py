"""Whole answers kept for identical requests, exactly as fresh as their fields promised.

Most traffic is warm and repeated: the same wallet asked about again within `maxAge`. An
answer without errors is kept as the bytes sent, keyed by the caller's scope (a key's
answers never serve another key, nor anonymous callers), the document's digest, the
operation name and the variables, until `CacheHints.expires_at`: the moment its oldest value
passes the smallest `maxAge` the request asked for, or its oldest price the price cache's
TTL. Until then a field-by-field read would have served the same cached values, so the
freshness contract is unchanged. `forceRefresh`, errors and partial answers are never kept.

The cache sits after identification, cost and metering: a cached answer is limited and
charged like any other. Entries live in this process and, with Redis, in the shared cache
for the other workers and replicas. Both tiers are bounded by what they really hold:

- in this process, an LRU of at most `max_bytes` and `max_entries`, counting each entry's
  key, an exact-size copy of its body (orjson's own `bytes` keep a ~4 KB allocation for a
  22-byte answer) and `ENTRY_OVERHEAD`;
- in Redis, what this process wrote and is still alive there stays under `shared_bytes`
  (`SharedBudget`), each entry living at most `shared_lifetime` seconds: a flood of
  distinct answers cannot evict the balances, timelines and persisted queries beside them.
"""

from __future__ import annotations

import hashlib
import math
import struct
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from chains.cache.base import Cache
from core.metrics import Metrics

_EXPIRY = struct.Struct(">d")
MIN_LIFETIME = 1.0
"""Seconds: an answer about to expire is not worth keeping."""
ENTRY_OVERHEAD = 192
"""Bytes an entry holds besides its key and body: the `Cached` object and its float, the
dict's slot and the order list's node (tracemalloc measures ~140 at most; tested)."""
REDIS_ENTRY_OVERHEAD = 128
"""Bytes Redis spends on a key with a TTL besides the key and value themselves (its
allocator also rounds a value up to its size class: up to a quarter more, counted too)."""


@dataclass(frozen=True, slots=True)
class Cached:
    body: bytes
    expires: float
    """Unix seconds."""


class ResponseCache:
    """Answer bytes by request key, in-process first, then in the `shared` cache (if any)."""

    def __init__(
        self,
        max_bytes: int,
        metrics: Metrics,
        shared: Cache | None = None,
        clock: Callable[[], float] = time.time,
        *,
        max_entries: int = 50_000,
        shared_bytes: int = 8 * 1024 * 1024,
        shared_lifetime: float = 300.0,
    ) -> None:
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._max_entry = max_bytes // 8
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._bytes = 0
        self._metrics = metrics
        self._shared = shared
        self._clock = clock
        self._budget = SharedBudget(shared_bytes, shared_lifetime, clock)

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0 and self._max_entries > 0

    @property
    def held(self) -> int:
        """Bytes this process holds for its entries (keys, bodies and overhead)."""
        return self._bytes

    @staticmethod
    def key(scope: str, fingerprint: str) -> str:
        """The entry of one caller scope's one request (`Params.fingerprint`)."""
        return hashlib.sha256(f"{scope}\0{fingerprint}".encode()).hexdigest()

    async def get(self, key: str) -> Cached | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and entry.expires - now < MIN_LIFETIME:
            self._drop(key)
            entry = None
        if entry is None and self._shared is not None:
            entry = _decode((await self._shared.get_many([_shared_key(key)]))[0])
            if entry is not None and entry.expires - now >= MIN_LIFETIME:
                self._keep(key, entry)
            else:
                entry = None
        self._metrics.response_cache.inc(result="miss" if entry is None else "hit")
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    async def put(self, key: str, body: bytes, expires: float) -> None:
        lifetime = expires - self._clock()
        if lifetime < MIN_LIFETIME or _held(key, body) > self._max_entry:
            return
        entry = Cached(memoryview(body).tobytes(), expires)  # exact size: see the docstring
        self._keep(key, entry)
        if self._shared is None:
            return
        shared_key, life = _shared_key(key), min(lifetime, self._budget.lifetime)
        value = _EXPIRY.pack(min(expires, self._clock() + life)) + entry.body
        if life >= MIN_LIFETIME and self._budget.admit(len(shared_key) + len(value), life):
            await self._shared.set_many({shared_key: value}, math.floor(life))

    def _keep(self, key: str, entry: Cached) -> None:
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += _held(key, entry.body)
        while self._bytes > self._max_bytes or len(self._entries) > self._max_entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self._bytes -= _held(key, self._entries.pop(key).body)


class SharedBudget:
    """Bytes this process may have alive in the shared cache at once.

    Writes are counted in buckets by the second they expire (at most `lifetime` buckets), so
    what is still alive is known without remembering each entry; a write that would pass
    `max_bytes` is skipped (the answer is still kept in this process)."""

    def __init__(self, max_bytes: int, lifetime: float, clock: Callable[[], float]) -> None:
        self._max_bytes = max_bytes
        self.lifetime = lifetime
        self._clock = clock
        self._alive: dict[int, int] = {}
        self._total = 0
        self._swept = -math.inf

    def admit(self, size: int, lifetime: float) -> bool:
        now = self._clock()
        if now - self._swept >= 1:  # at most once a second: buckets are seconds
            self._swept = now
            for second in [s for s in self._alive if s <= now]:
                self._total -= self._alive.pop(second)
        size = size + size // 4 + REDIS_ENTRY_OVERHEAD
        if self._total + size > self._max_bytes:
            return False
        second = math.ceil(now + lifetime)
        self._alive[second] = self._alive.get(second, 0) + size
        self._total += size
        return True


def _held(key: str, body: bytes) -> int:
    return sys.getsizeof(key) + sys.getsizeof(body) + ENTRY_OVERHEAD


def _shared_key(key: str) -> str:
    return f"bg:v1:resp:{key}"


def _decode(data: bytes | None) -> Cached | None:
    if data is None or len(data) < _EXPIRY.size:
        return None
    (expires,) = _EXPIRY.unpack_from(data)
    return Cached(data[_EXPIRY.size :], expires) if math.isfinite(expires) else None
