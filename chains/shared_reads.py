"""Cold reads shared across replicas: of N replicas that miss the same lookups at once, one
reads the chain and the others take its values from the shared cache.

In one process, identical lookups already join one read (the reader's single flight). Across
processes, a read first takes a short lease in Redis per (chain, account, lookup set)
(`chains.cache.lease`): the holder reads upstream, writes the values to the shared cache and
releases; a process that finds the lease held polls the shared cache, with a short growing
backoff, for values read recently enough for its callers:

- a lookup's oldest acceptable read time is its strictest caller's: `now - maxAge`, or the
  request's own start for `forceRefresh`, so a waiter is never given a value older than it
  accepts (it keeps waiting, then reads itself);
- the wait ends when the values are there, when the lease is free again (the holder
  finished without storing them, failed, or died and its lease expired: the waiter takes the
  lease and reads), or after the lease's ttl or half the time left before the request's
  deadline, whichever comes first (then it reads without a lease);
- when Redis fails or its breaker is open, nobody coordinates: every process reads itself,
  as without Redis.

Leases a process holds are read first and released as soon as their values are stored, before
it waits for anyone else's, so two processes holding leases the other wants never wait on
each other for longer than one read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chains.cache.lease import Claim, Leases, lease_key
from chains.cache.store import ReadingStore
from core.metrics import Metrics
from core.models import BalanceKey, BalanceReading, TokenMeta, TokenRef

FIRST_POLL = 0.01
"""Seconds before a waiter first looks for the holder's values; each wait is 1.5 times the
last, up to `LAST_POLL`."""
LAST_POLL = 0.1


class Callers(Protocol):
    """What the callers waiting on one read accept, and how they are answered."""

    def oldest(self, key: BalanceKey) -> datetime | None:
        """The oldest read time `key`'s callers accept; `None` once it is answered."""

    def shareable(self, token: TokenRef) -> bool:
        """Whether stored metadata of `token` may answer (not when a caller forces its read)."""

    def deliver(
        self, found: Mapping[BalanceKey, BalanceReading], metas: Mapping[TokenRef, TokenMeta]
    ) -> None:
        """Answer lookups with values another process read."""


@dataclass
class Part:
    """Lookups this process must read upstream itself, now."""

    balances: list[BalanceKey]
    tokens: list[TokenRef] = field(default_factory=list)


class SharedReads:
    """One chain's coordination of cold reads with the other processes sharing its Redis.

    Counted in `shared_reads_total{outcome}`, once per lease: `led` (took it and read),
    `waited` (answered by another process), `took_over` (found it free again without the
    values, and read), `gave_up` (waited as long as allowed, and read), `uncoordinated`
    (Redis unavailable: read without a lease)."""

    def __init__(
        self, chain: str, leases: Leases, store: ReadingStore, metrics: Metrics, *, ttl: float
    ) -> None:
        self._chain = chain
        self._leases = leases
        self._store = store
        self._metrics = metrics
        self._ttl = ttl
        self._owner = secrets.token_hex(8)
        """This process's name on the leases it takes (only the owner may release one)."""

    async def parts(
        self,
        balances: Sequence[BalanceKey],
        tokens: Sequence[TokenRef],
        callers: Callers,
        deadline: float | None,
    ) -> AsyncGenerator[Part, None]:
        """What to read upstream, part by part; the rest arrives through `callers.deliver`.

        Read (and store) each part before asking for the next: its leases are released when
        the next is asked for, or when the iteration is closed (use `contextlib.aclosing`).
        """
        groups = _groups(self._chain, balances)
        claims = dict(zip(groups, await self._claim(list(groups)), strict=True))
        first: list[BalanceKey] = []
        taken: list[str] = []
        waiting: dict[str, list[BalanceKey]] = {}
        for lease, claim in claims.items():
            if claim is Claim.HELD:
                waiting[lease] = groups[lease]
                continue
            first += groups[lease]
            taken += [lease] if claim is Claim.ACQUIRED else []
            self._count(1, _OUTCOMES[claim])
        left = list(tokens)
        try:
            if first:
                yield Part(first, left)
                left = []
                await self._release(taken)
                taken = []
            async for part in self._wait(waiting, left, callers, deadline, taken):
                yield part
        finally:
            await self._release(taken)

    async def _wait(
        self,
        waiting: dict[str, list[BalanceKey]],
        tokens: list[TokenRef],
        callers: Callers,
        deadline: float | None,
        taken: list[str],
    ) -> AsyncIterator[Part]:
        """Poll for the values of leases others hold; read what they leave, as it is left.
        Leases taken over are appended to `taken` (the caller releases them)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        stop = now + self._ttl
        if deadline is not None:
            stop = min(stop, now + max(0.0, deadline - now) / 2)
        pause = FIRST_POLL
        while waiting and loop.time() < stop:
            await asyncio.sleep(min(pause, max(0.0, stop - loop.time())))
            pause = min(pause * 1.5, LAST_POLL)
            tokens = await self._collect(waiting, tokens, callers)
            if not waiting:
                break
            claims = dict(zip(waiting, await self._claim(list(waiting)), strict=True))
            free = [lease for lease, claim in claims.items() if claim is not Claim.HELD]
            if not free:
                continue
            mine = [lease for lease in free if claims[lease] is Claim.ACQUIRED]
            taken += mine
            freed = {lease: waiting.pop(lease) for lease in free}
            # The holder may have stored its values between our look and our claim: those
            # leases were waited for (counted so by `_collect`), the rest are read here.
            tokens = await self._collect(freed, tokens, callers)
            self._count(sum(lease in freed for lease in mine), "took_over")
            self._count(sum(lease in freed for lease in free if lease not in mine), "uncoordinated")
            part = [k for keys in freed.values() for k in keys if callers.oldest(k) is not None]
            if part:
                yield Part(part, tokens)
                tokens = []
            await self._release(mine)
            taken[:] = [lease for lease in taken if lease not in mine]
        self._count(len(waiting), "gave_up")
        rest = [k for keys in waiting.values() for k in keys if callers.oldest(k) is not None]
        if rest or tokens:
            yield Part(rest, tokens)

    async def _collect(
        self,
        waiting: dict[str, list[BalanceKey]],
        tokens: list[TokenRef],
        callers: Callers,
    ) -> list[TokenRef]:
        """Deliver the values now in the shared cache that are fresh enough; forget leases
        whose every lookup is answered. Returns the tokens still unknown."""
        pending = [k for keys in waiting.values() for k in keys if callers.oldest(k) is not None]
        found = await self._store.shared_readings(pending)
        fresh: dict[BalanceKey, BalanceReading] = {}
        for key, reading in found.items():
            oldest = callers.oldest(key)
            if oldest is not None and reading.read_at >= oldest:
                fresh[key] = reading
        # The holder stores metadata before balances: with its balances seen, the metadata
        # it could store is there too.
        asked = [t for t in tokens if callers.shareable(t)]
        metas = await self._store.shared_tokens(self._chain, asked) if asked else {}
        callers.deliver(fresh, metas)
        answered = [
            lease for lease, keys in waiting.items() if all(callers.oldest(k) is None for k in keys)
        ]
        for lease in answered:
            del waiting[lease]
        self._count(len(answered), "waited")
        return [t for t in tokens if t not in metas]

    def _count(self, leases: int, outcome: str) -> None:
        if leases:
            self._metrics.shared_reads.inc(leases, outcome=outcome)

    async def _claim(self, leases: list[str]) -> list[Claim]:
        return await self._leases.acquire(leases, self._owner, self._ttl)

    async def _release(self, leases: list[str]) -> None:
        await self._leases.release(leases, self._owner)


_OUTCOMES = {Claim.ACQUIRED: "led", Claim.UNAVAILABLE: "uncoordinated"}


def _groups(chain: str, keys: Sequence[BalanceKey]) -> dict[str, list[BalanceKey]]:
    """`keys` by the lease that guards them: one per account and its set of tokens."""
    by_account: dict[str, list[BalanceKey]] = {}
    for key in keys:
        by_account.setdefault(key.account, []).append(key)
    return {lease_key(chain, a, [k.token for k in ks]): ks for a, ks in by_account.items()}
