"""Discovery coverage shared between processes through the cache (Redis).

A coverage is about final blocks only, so what one process scanned serves every other. The
value is a small JSON document, decoded strictly: anything unexpected is a miss (the blocks
are scanned again), never a token that was not seen. Keys carry the account as their hash
tag, like every key about one account.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chains.cache.base import Cache
from chains.discovery.coverage import Coverage
from core.errors import ServiceError
from core.models import TokenRef

RETENTION = 30 * 86_400
_MAX_TOKENS = 10_000
"""More than any limit allows: a document with more is not ours."""

ParseToken = Callable[[str], TokenRef]
"""The chain family's token parser (`normalize_token`)."""


class SharedDiscovery:
    """One chain's discovery coverage in a shared `Cache` (a `ResilientCache`: failures are
    misses and lost writes)."""

    def __init__(self, chain: str, cache: Cache, parse_token: ParseToken) -> None:
        self._chain = chain
        self._cache = cache
        self._parse = parse_token

    async def get(self, account: str, from_block: int) -> Coverage | None:
        (data,) = await self._cache.get_many([self._key(account, from_block)])
        return None if data is None else self._decode(data)

    async def keep(self, account: str, from_block: int, coverage: Coverage) -> None:
        if coverage.scanned:
            await self._cache.set_many(
                {self._key(account, from_block): _encode(coverage)}, RETENTION
            )

    def _key(self, account: str, from_block: int) -> str:
        """`from_block` as configured (negative: relative to the head) names the scan."""
        return f"bg:v1:disc:{{{account}}}:{self._chain}:{from_block}"

    def _decode(self, data: bytes) -> Coverage | None:
        try:
            body = json.loads(data)
            low, high, truncated, rows = body["l"], body["h"], body["x"], body["t"]
            if not (_block(low) and _block(high) and low <= high and type(truncated) is bool):
                return None
            if not isinstance(rows, list) or len(rows) > _MAX_TOKENS:
                return None
            seen: dict[TokenRef, int] = {}
            for text, block in rows:
                if not isinstance(text, str) or not _block(block) or not low <= block <= high:
                    return None
                seen[self._parse(text)] = block
        except (ValueError, TypeError, KeyError, ServiceError):
            return None
        return Coverage(low, high, seen, truncated)


def _encode(coverage: Coverage) -> bytes:
    rows = [[str(token), block] for token, block in coverage.seen.items()]
    body = {"l": coverage.low, "h": coverage.high, "x": coverage.truncated, "t": rows}
    return json.dumps(body, separators=(",", ":")).encode()


def _block(value: Any) -> bool:
    return type(value) is int and 0 <= value < 2**63
