"""What is final in history, shared between the service's processes through the cache (Redis).

Final data never changes, so one process's read serves every other: a timeline's scan up to
its last final block, a token's first block, the block an instant resolves to. Values are
small JSON documents, decoded strictly (anything unexpected is a miss, never a wrong
answer); scans longer than `MAX_SHARED_MOVEMENTS` stay in their process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chains.cache.base import Cache
from chains.history.base import Movement
from core.models import BalanceKey

MAX_SHARED_MOVEMENTS = 20_000
"""About 2 MB of JSON: a larger scan is not worth a round trip per request."""
RETENTION = 30 * 86_400


@dataclass(frozen=True)
class Scan:
    """A timeline read from `start` through block `through` (final): every movement, and
    the balance before `start`."""

    start: int
    through: int
    opening: int
    movements: tuple[Movement, ...]


class SharedHistory:
    """One chain's final history in a shared `Cache` (a `ResilientCache`: failures are misses)."""

    def __init__(self, chain: str, cache: Cache) -> None:
        self._chain = chain
        self._cache = cache

    async def scan(self, key: BalanceKey, origin: int) -> Scan | None:
        (data,) = await self._cache.get_many([self._scan_key(key, origin)])
        return None if data is None else _decode_scan(data, origin)

    async def keep_scan(self, key: BalanceKey, scan: Scan) -> None:
        if len(scan.movements) <= MAX_SHARED_MOVEMENTS:
            await self._cache.set_many(
                {self._scan_key(key, scan.start): _encode_scan(scan)}, RETENTION
            )

    async def numbers(self, kind: str, names: list[str]) -> dict[str, int]:
        """Kept block numbers (`first` of tokens, `at` of instants), those found."""
        stored = await self._cache.get_many([self._number_key(kind, n) for n in names])
        found: dict[str, int] = {}
        for name, data in zip(names, stored, strict=True):
            text = None if data is None else data.decode("ascii", "replace")
            if text is not None and text.isdigit() and len(text) <= 20:
                found[name] = int(text)
        return found

    async def keep_numbers(self, kind: str, values: dict[str, int]) -> None:
        if values:
            items = {self._number_key(kind, n): str(v).encode() for n, v in values.items()}
            await self._cache.set_many(items, RETENTION)

    def _scan_key(self, key: BalanceKey, origin: int) -> str:
        return f"bg:v1:hs:{{{key.account}}}:{self._chain}:{key.token}:{origin}"

    def _number_key(self, kind: str, name: str) -> str:
        return f"bg:v1:h{kind}:{self._chain}:{name}"


def _encode_scan(scan: Scan) -> bytes:
    rows = [
        [m.block_number, m.order, m.transaction_hash, m.log_index, str(m.delta), m.timestamp]
        for m in scan.movements
    ]
    body = {"t": scan.through, "o": str(scan.opening), "m": rows}
    return json.dumps(body, separators=(",", ":")).encode()


def _decode_scan(data: bytes, origin: int) -> Scan | None:
    try:
        body = json.loads(data)
        through, opening = body["t"], int(body["o"])
        movements = tuple(_movement(row) for row in body["m"])
    except (ValueError, TypeError, KeyError):
        return None
    if type(through) is not int or through < origin - 1:
        return None
    if any(m.block_number < origin or m.block_number > through for m in movements):
        return None
    return Scan(origin, through, opening, movements)


def _movement(row: Any) -> Movement:
    block, order, transaction, index, delta, stamp = row
    ints = (
        (block, order)
        + ((index,) if index is not None else ())
        + ((stamp,) if stamp is not None else ())
    )
    if not isinstance(transaction, str) or any(type(v) is not int or v < 0 for v in ints):
        raise ValueError("malformed movement")
    return Movement(block, order, transaction, index, int(delta), stamp)
