"""The cache protocol: opaque bytes with a retention TTL, read and written in batches.

Freshness (`maxAge`) is not the cache's business: the reader decides it from the read time
stored inside each value, so one stored value serves callers with different freshness needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Cache(Protocol):
    """Batch get/set of bytes values.

    - `get_many` returns one entry per key, `None` for a miss, in key order.
    - `set_many` stores every item for `ttl` seconds (the retention, not the freshness).
    - Backend failures raise; wrap in `ResilientCache` to turn them into misses.
    """

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set_many(self, items: Mapping[str, bytes], ttl: int) -> None: ...

    async def close(self) -> None: ...
