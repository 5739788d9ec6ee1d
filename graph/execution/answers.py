"""Whole answers kept for identical requests, exactly as fresh as their fields promised.

Most traffic is warm and repeated: the same wallet asked about again within `maxAge`. An
answer without errors is kept as the bytes sent, keyed by the caller's scope (a key's
answers never serve another key, nor anonymous callers), the document's digest, the
operation name and the variables, until `CacheHints.expires_at`: the moment its oldest value
passes the smallest `maxAge` the request asked for, or its oldest price the price cache's
TTL. Until then a field-by-field read would have served the same cached values, so the
freshness contract is unchanged. `forceRefresh`, errors and partial answers are never kept.

The cache sits after identification, cost and metering: a cached answer is limited and
charged like any other. Entries live in this process (an LRU bounded in bytes) and, with
Redis, in the shared cache for the other workers and replicas, each for its remaining life.
"""

from __future__ import annotations

import hashlib
import math
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from chains.cache.base import Cache
from core.metrics import Metrics

_EXPIRY = struct.Struct(">d")
MIN_LIFETIME = 1.0
"""Seconds: an answer about to expire is not worth keeping."""


@dataclass(frozen=True)
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
    ) -> None:
        self._max_bytes = max_bytes
        self._max_entry = max_bytes // 8
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._bytes = 0
        self._metrics = metrics
        self._shared = shared
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0

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
        if lifetime < MIN_LIFETIME or len(body) > self._max_entry:
            return
        entry = Cached(body, expires)
        self._keep(key, entry)
        if self._shared is not None:
            await self._shared.set_many(
                {_shared_key(key): _EXPIRY.pack(expires) + body}, math.floor(lifetime)
            )

    def _keep(self, key: str, entry: Cached) -> None:
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += len(entry.body)
        while self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self._bytes -= len(self._entries.pop(key).body)


def _shared_key(key: str) -> str:
    return f"bg:v1:resp:{key}"


def _decode(data: bytes | None) -> Cached | None:
    if data is None or len(data) < _EXPIRY.size:
        return None
    (expires,) = _EXPIRY.unpack_from(data)
    return Cached(data[_EXPIRY.size :], expires) if math.isfinite(expires) else None
