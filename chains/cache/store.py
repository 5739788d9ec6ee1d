"""Balances and token metadata kept between requests: objects in process, bytes in Redis.

    local    an LRU of decoded values (BalanceReading, TokenMeta), bounded in entries: a warm
             value costs a dictionary lookup, no decoding, and survives a Redis outage
    shared   the optional `Cache` every worker and replica share (Redis behind a breaker):
             asked only for what the process lacks, or holds too old for the caller

Freshness is the reader's decision (the read time is inside each value); the store only
keeps values and finds the newest it has. Token metadata is kept only when it is a fact:
known decimals for `metadata_ttl`, a definite "this contract has no decimals()" briefly
(`absent_ttl`); an answer that was merely garbled is never kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from chains.cache import codec
from chains.cache.base import Cache
from chains.cache.lru import Lru
from core.models import BalanceKey, BalanceReading, TokenMeta, TokenRef

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

ABSENT_TTL = 60
"""Seconds a definite "no decimals()" answer is kept (the contract may be upgraded)."""


class ReadingStore:
    """What the readers of every chain remember, in process and (optionally) shared."""

    def __init__(
        self,
        *,
        max_entries: int,
        retention: int,
        metadata_ttl: int,
        shared: Cache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._balances: Lru[BalanceKey, BalanceReading] = Lru(max_entries, clock)
        self._tokens: Lru[tuple[str, TokenRef], TokenMeta] = Lru(max_entries, clock)
        self._shared = shared
        self._retention = retention
        self._metadata_ttl = metadata_ttl

    def reading(self, key: BalanceKey) -> BalanceReading | None:
        """The value this process holds for `key` (however old: the caller judges)."""
        return self._balances.get(key)

    def token(self, chain: str, token: TokenRef) -> TokenMeta | None:
        return self._tokens.get((chain, token))

    async def shared_readings(self, keys: Sequence[BalanceKey]) -> dict[BalanceKey, BalanceReading]:
        """The shared cache's values for `keys` (one round trip), kept locally when newer."""
        if self._shared is None or not keys:
            return {}
        found: dict[BalanceKey, BalanceReading] = {}
        stored = await self._shared.get_many([codec.balance_key(k) for k in keys])
        for key, data in zip(keys, stored, strict=True):
            reading = codec.decode_reading(key, data)
            if reading is None:
                continue
            mine = self._balances.get(key)
            if mine is None or mine.read_at < reading.read_at:
                self._balances.put(key, reading, self._retention)
            found[key] = reading
        return found

    async def shared_tokens(
        self, chain: str, tokens: Sequence[TokenRef]
    ) -> dict[TokenRef, TokenMeta]:
        if self._shared is None or not tokens:
            return {}
        found: dict[TokenRef, TokenMeta] = {}
        stored = await self._shared.get_many([codec.token_key(chain, t) for t in tokens])
        for token, data in zip(tokens, stored, strict=True):
            meta = codec.decode_token(chain, token, data)
            if meta is not None:
                self._tokens.put((chain, token), meta, self._metadata_ttl)
                found[token] = meta
        return found

    async def remember(
        self, readings: Iterable[BalanceReading], metas: Iterable[TokenMeta]
    ) -> None:
        """Keep what was just read: every reading, and the metadata that is a fact (encoded
        for the shared cache only when there is one)."""
        shared = self._shared is not None
        balances: dict[str, bytes] = {}
        for reading in readings:
            self._balances.put(reading.key, reading, self._retention)
            if shared:
                balances[codec.balance_key(reading.key)] = codec.encode_reading(reading)
        known: dict[str, bytes] = {}
        absent: dict[str, bytes] = {}
        for meta in metas:
            if meta.decimals is None and meta.garbled:
                continue  # a malformed answer is not a fact: ask again next time
            ttl = self._metadata_ttl if meta.decimals is not None else ABSENT_TTL
            self._tokens.put((meta.chain, meta.token), meta, ttl)
            if shared:
                target = known if meta.decimals is not None else absent
                target[codec.token_key(meta.chain, meta.token)] = codec.encode_token(meta)
        if self._shared is not None:
            # Metadata first: a process waiting for these values (`chains.shared_reads`) takes
            # the balances as the sign that whatever metadata could be stored is there.
            await self._shared.set_many(known, self._metadata_ttl)
            await self._shared.set_many(absent, ABSENT_TTL)
            await self._shared.set_many(balances, self._retention)
