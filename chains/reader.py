"""One chain's read path: store -> single flight -> provider, honouring each caller's freshness.

A value is served from the store only if it was read from the chain at most `max_age`
seconds ago (`force_refresh` never uses a stored balance, nor stored metadata of the tokens
it reads). The process's own values are checked first, the shared cache (Redis) only for
what they cannot serve. Everything else of one call to `balances` goes to the provider as
one `read`, together with the metadata of tokens that are neither listed nor stored, so a
cold round costs one upstream round. Identical lookups already being read by a concurrent
request join that read instead of starting another; with Redis, lookups another process is
reading right now are taken from its answer in the shared cache (`chains.shared_reads`).

Callers wait until their request's `deadline` at most: a lookup not answered by then is an
`UpstreamTimeout` for that key alone, while the read itself goes on in its own task and
stores its answer for the next request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chains import flight
from chains.base import ChainProvider, Reading
from chains.cache.store import ReadingStore
from chains.shared_reads import SharedReads
from core.clock import Clock, utcnow
from core.errors import ChainError, UpstreamTimeout
from core.metrics import Metrics
from core.models import BalanceKey, BalanceReading, TokenMeta, TokenRef

log = logging.getLogger(__name__)

BalanceOutcome = BalanceReading | ChainError
TokenOutcome = TokenMeta | ChainError


@dataclass(frozen=True)
class Freshness:
    """How old a cached value the caller accepts, in seconds; `force_refresh` accepts none."""

    max_age: int
    force_refresh: bool = False


@dataclass(frozen=True)
class BalanceRequest:
    key: BalanceKey
    freshness: Freshness


class ChainReader:
    """Reads balances and token metadata of one chain through the shared store."""

    def __init__(
        self,
        chain: str,
        provider: ChainProvider,
        listed: Mapping[TokenRef, TokenMeta],
        store: ReadingStore,
        metrics: Metrics,
        clock: Clock = utcnow,
        *,
        unsettled: Mapping[TokenRef, TokenMeta] | None = None,
        shared_reads: SharedReads | None = None,
    ) -> None:
        self.chain = chain
        self._provider = provider
        self._listed = listed
        self._unsettled = unsettled or {}
        """Listed tokens whose lists disagree: read like unlisted ones, keeping their logo."""
        self._store = store
        self._shared_reads = shared_reads
        """Cold reads coordinated with other processes (Redis leases); `None`: each reads."""
        self._metrics = metrics
        self._clock = clock
        self._balances_in_flight: dict[BalanceKey, asyncio.Future[BalanceOutcome]] = {}
        self._oldest: dict[BalanceKey, datetime] = {}
        """Per lookup in flight, the oldest read time its strictest caller accepts: what a
        value another process read must meet (this process's own reads always do)."""
        self._tokens_in_flight: dict[TokenRef, asyncio.Future[TokenOutcome]] = {}
        self._rereads: set[TokenRef] = set()
        """Tokens in flight whose metadata a forced caller wants read again, not stored."""
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Cancel the reads still in flight (at shutdown, before the HTTP clients close)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def listed_token(self, token: TokenRef) -> TokenMeta | None:
        """Metadata from config or the token list, if the token is there."""
        return self._listed.get(token)

    def is_listed(self, token: TokenRef) -> bool:
        """Whether a token list names the token (its metadata trusted or not)."""
        return token in self._listed or token in self._unsettled

    async def balances(
        self, requests: Sequence[BalanceRequest], deadline: float | None = None
    ) -> tuple[list[BalanceOutcome], dict[TokenRef, TokenMeta]]:
        """Each request's balance (or error), plus metadata learned for unlisted tokens.

        `deadline` is on the event loop's clock; `None` waits as long as the read takes.
        """
        keys = [r.key for r in requests]
        results = await self._stored(requests)
        self._metrics.cache_lookups.inc(len(results), result="hit")
        pending = [i for i in range(len(keys)) if i not in results]
        metas = await self._stored_tokens(requests, pending)
        wanted = list(dict.fromkeys(keys[i].token for i in pending))
        unlisted = [t for t in wanted if t not in self._listed and not t.is_native]
        balance_waits, my_balances = flight.claim(
            self._balances_in_flight, [keys[i] for i in pending]
        )
        self._accept(requests, pending)
        token_waits, my_tokens = flight.claim(
            self._tokens_in_flight, [t for t in unlisted if t not in metas]
        )
        forced = {keys[i].token for i in pending if requests[i].freshness.force_refresh}
        self._rereads.update(t for t in token_waits if t in forced)
        self._metrics.cache_lookups.inc(len(my_balances), result="miss")
        self._metrics.cache_lookups.inc(len(balance_waits) - len(my_balances), result="shared")
        if my_balances or my_tokens:
            self._start(my_balances, my_tokens, deadline)
        late = self._late()
        balances = await flight.wait_for(balance_waits, deadline, late)
        for i in pending:
            results[i] = balances[keys[i]]
        for token, outcome in (await flight.wait_for(token_waits, deadline, late)).items():
            if isinstance(outcome, TokenMeta):
                metas[token] = outcome
        return [results[i] for i in range(len(keys))], metas

    async def tokens(
        self, tokens: Sequence[TokenRef], deadline: float | None = None
    ) -> list[TokenOutcome]:
        """Metadata of each token: listed, stored or read from the chain."""
        found: dict[TokenRef, TokenOutcome] = {}
        unknown: list[TokenRef] = []
        for token in dict.fromkeys(tokens):
            meta = self._listed.get(token) or self._store.token(self.chain, token)
            if meta is not None:
                found[token] = meta
            else:
                unknown.append(token)
        found.update(await self._store.shared_tokens(self.chain, unknown))
        waits, mine = flight.claim(self._tokens_in_flight, [t for t in unknown if t not in found])
        if mine:
            self._start({}, mine, deadline)
        found.update(await flight.wait_for(waits, deadline, self._late()))
        return [found[t] for t in tokens]

    def held(self, requests: Sequence[BalanceRequest]) -> dict[int, BalanceReading]:
        """The requests this process's cache answers fresh enough, by index, at no await:
        the warm path, taken before any loader batching (counted as cache hits)."""
        found = self._held(requests, self._clock())
        self._metrics.cache_lookups.inc(len(found), result="hit")
        return found

    def _held(self, requests: Sequence[BalanceRequest], now: datetime) -> dict[int, BalanceReading]:
        found: dict[int, BalanceReading] = {}
        for index, request in enumerate(requests):
            if request.freshness.force_refresh:
                continue
            local = self._store.reading(request.key)
            if local is not None and _fresh(request, local, now):
                found[index] = local
        return found

    async def _stored(self, requests: Sequence[BalanceRequest]) -> dict[int, BalanceOutcome]:
        """Values fresh enough for their caller: the process's first, then the shared cache's."""
        now = self._clock()
        results: dict[int, BalanceOutcome] = dict(self._held(requests, now))
        missing: dict[BalanceKey, list[int]] = {}
        for index, request in enumerate(requests):
            if index not in results and not request.freshness.force_refresh:
                missing.setdefault(request.key, []).append(index)
        shared = await self._store.shared_readings(list(missing))
        for key, indexes in missing.items():
            value = shared.get(key)
            for index in indexes:
                if value is not None and _fresh(requests[index], value, now):
                    results[index] = value
        return results

    async def _stored_tokens(
        self, requests: Sequence[BalanceRequest], pending: list[int]
    ) -> dict[TokenRef, TokenMeta]:
        """Stored metadata of the unlisted tokens still to read; a forced read re-reads it."""
        forced = {requests[i].key.token for i in pending if requests[i].freshness.force_refresh}
        found: dict[TokenRef, TokenMeta] = {}
        unknown: list[TokenRef] = []
        for i in pending:
            token = requests[i].key.token
            if token in found or token in forced or token in self._listed or token.is_native:
                continue
            meta = self._store.token(self.chain, token)
            if meta is not None:
                found[token] = meta
            elif token not in unknown:
                unknown.append(token)
        found.update(await self._store.shared_tokens(self.chain, unknown))
        return found

    def _late(self) -> ChainError:
        return UpstreamTimeout(
            f"{self.chain} did not answer within the request's deadline; the read goes on "
            "and its answer will be cached",
            chain=self.chain,
        )

    def _accept(self, requests: Sequence[BalanceRequest], pending: list[int]) -> None:
        """Note the oldest read time each pending lookup's callers accept, the strictest
        caller's winning: a forced read accepts nothing read before it asked."""
        now = self._clock()
        for i in pending:
            request = requests[i]
            fresh = request.freshness
            oldest = now if fresh.force_refresh else now - timedelta(seconds=fresh.max_age)
            known = self._oldest.get(request.key)
            if known is None or known < oldest:
                self._oldest[request.key] = oldest

    def _start(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
        deadline: float | None,
    ) -> None:
        # A task of its own, so a client that disconnects (or a deadline) cannot cancel a
        # read that other requests joined, and its answer is stored whoever waited for it.
        task = asyncio.get_running_loop().create_task(self._fetch(balances, tokens, deadline))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
        deadline: float | None,
    ) -> None:
        try:
            if self._shared_reads is None or not balances:
                await self._read(balances, tokens)
            else:
                await self._read_shared(balances, tokens, deadline)
        except BaseException as exc:
            if isinstance(exc, Exception):
                log.exception(
                    "%s: reading %d balances failed unexpectedly", self.chain, len(balances)
                )
            failure = exc if isinstance(exc, Exception) else RuntimeError("read aborted")
            self._settle(balances, tokens, failure)
            if not isinstance(exc, Exception):
                raise

    async def _read_shared(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
        deadline: float | None,
    ) -> None:
        """Read what no other process is reading; take the rest from the shared cache."""
        assert self._shared_reads is not None
        callers = _Callers(self, balances, tokens)
        parts = self._shared_reads.parts(list(balances), list(tokens), callers, deadline)
        async with aclosing(parts):
            async for part in parts:
                await self._read(
                    {k: balances[k] for k in part.balances}, {t: tokens[t] for t in part.tokens}
                )

    async def _read(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
    ) -> None:
        """One upstream read; its answers settle their futures, then are stored."""
        reading = await self._provider.read(list(balances), list(tokens))
        # Settled reads leave the in-flight table at once: a later forceRefresh must not join
        # a read that has already finished.
        reading = self._with_logos(reading)
        self._settle(balances, tokens, reading)
        await self._store.remember(
            (r for r in reading.balances if isinstance(r, BalanceReading)),
            (m for m in reading.tokens if isinstance(m, TokenMeta)),
        )

    def _with_logos(self, reading: Reading) -> Reading:
        """The chain's metadata of unsettled tokens, with the logo their lists give."""
        if not self._unsettled:
            return reading
        metas: list[TokenOutcome] = []
        for meta in reading.tokens:
            hint = self._unsettled.get(meta.token) if isinstance(meta, TokenMeta) else None
            if isinstance(meta, TokenMeta) and hint is not None and meta.logo is None:
                meta = replace(meta, logo=hint.logo)
            metas.append(meta)
        return replace(reading, tokens=metas)

    def _settle(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
        outcome: Reading | Exception,
    ) -> None:
        # Only this read's own entries: a lookup answered earlier (by another process) may
        # be in flight again, for a newer caller.
        for key, future in balances.items():
            if self._balances_in_flight.get(key) is future:
                del self._balances_in_flight[key]
                self._oldest.pop(key, None)
        for token, tfuture in tokens.items():
            if self._tokens_in_flight.get(token) is tfuture:
                del self._tokens_in_flight[token]
                self._rereads.discard(token)
        if isinstance(outcome, Exception):
            flight.fail(balances, outcome)
            flight.fail(tokens, outcome)
        else:
            flight.resolve(balances, outcome.balances)
            flight.resolve(tokens, outcome.tokens)


class _Callers:
    """The callers of one read, as `SharedReads` sees them: what they accept from another
    process's answer, and how they get it."""

    def __init__(
        self,
        reader: ChainReader,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
    ) -> None:
        self._reader = reader
        self._balances = balances
        self._tokens = tokens

    def oldest(self, key: BalanceKey) -> datetime | None:
        if self._balances[key].done():
            return None
        # Not noted (never expected): only what is read from now on.
        return self._reader._oldest.get(key) or self._reader._clock()

    def shareable(self, token: TokenRef) -> bool:
        return token not in self._reader._rereads

    def deliver(
        self, found: Mapping[BalanceKey, BalanceReading], metas: Mapping[TokenRef, TokenMeta]
    ) -> None:
        self._reader._settle(
            {k: self._balances[k] for k in found},
            {t: self._tokens[t] for t in metas},
            Reading(list(found.values()), list(metas.values())),
        )


def _fresh(request: BalanceRequest, reading: BalanceReading, now: datetime) -> bool:
    """Whether `reading` is recent enough for `request`'s caller."""
    if request.freshness.force_refresh:
        return False
    return (now - reading.read_at).total_seconds() <= request.freshness.max_age
