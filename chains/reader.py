"""One chain's read path: cache -> single flight -> provider, honouring each caller's freshness.

A value is served from the cache only if it was read from the chain at most `max_age`
seconds ago (`force_refresh` never uses the cache). Everything else of one call to
`balances` goes to the provider as one `read`, together with the metadata of tokens that are
neither listed nor cached, so a cold round costs one upstream round. Identical lookups that
are already being read by a concurrent request join that read instead of starting another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from chains.base import ChainProvider, Reading
from chains.cache import codec
from chains.cache.base import Cache
from chains.clock import Clock, utcnow
from chains.errors import ChainError
from chains.metrics import Metrics
from chains.models import BalanceKey, BalanceReading, TokenMeta, TokenRef
from settings import CacheConfig

log = logging.getLogger(__name__)

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

_UNKNOWN_DECIMALS_TTL = 60
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
    """Reads balances and token metadata of one chain through the shared cache."""

    def __init__(
        self,
        chain: str,
        provider: ChainProvider,
        listed: Mapping[TokenRef, TokenMeta],
        cache: Cache,
        cache_config: CacheConfig,
        metrics: Metrics,
        clock: Clock = utcnow,
    ) -> None:
        self.chain = chain
        self._provider = provider
        self._listed = listed
        self._cache = cache
        self._config = cache_config
        self._metrics = metrics
        self._clock = clock
        self._balances_in_flight: dict[BalanceKey, asyncio.Future[BalanceOutcome]] = {}
        self._tokens_in_flight: dict[TokenRef, asyncio.Future[TokenOutcome]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def listed_token(self, token: TokenRef) -> TokenMeta | None:
        """Metadata from config or the token list, if the token is there."""
        return self._listed.get(token)

    async def balances(
        self, requests: Sequence[BalanceRequest]
    ) -> tuple[list[BalanceOutcome], dict[TokenRef, TokenMeta]]:
        """Each request's balance (or error), plus metadata learned for unlisted tokens."""
        keys = [r.key for r in requests]
        unlisted = list(
            dict.fromkeys(
                k.token for k in keys if k.token not in self._listed and not k.token.is_native
            )
        )
        cached = [i for i, r in enumerate(requests) if not r.freshness.force_refresh]
        lookups = [codec.balance_key(keys[i]) for i in cached]
        lookups += [codec.token_key(self.chain, t) for t in unlisted]
        # No await when nothing is looked up, so concurrent forced reads claim in one tick.
        stored = await self._cache.get_many(lookups) if lookups else []
        now = self._clock()
        results: dict[int, BalanceOutcome] = {}
        for i, data in zip(cached, stored, strict=False):
            reading = codec.decode_reading(keys[i], data)
            age = (now - reading.read_at).total_seconds() if reading else None
            if reading is not None and age is not None and age <= requests[i].freshness.max_age:
                results[i] = reading
        self._metrics.cache_lookups.inc(len(results), result="hit")
        metas: dict[TokenRef, TokenMeta] = {}
        for token, data in zip(unlisted, stored[len(cached) :], strict=True):
            meta = codec.decode_token(self.chain, token, data)
            if meta is not None:
                metas[token] = meta

        pending = [i for i in range(len(keys)) if i not in results]
        balance_waits, my_balances = _claim(self._balances_in_flight, [keys[i] for i in pending])
        pending_tokens = {keys[i].token for i in pending}
        token_waits, my_tokens = _claim(
            self._tokens_in_flight,
            [t for t in unlisted if t not in metas and t in pending_tokens],
        )
        self._metrics.cache_lookups.inc(len(my_balances), result="miss")
        self._metrics.cache_lookups.inc(len(balance_waits) - len(my_balances), result="shared")
        if my_balances or my_tokens:
            self._start(my_balances, my_tokens)
        for i in pending:
            results[i] = await asyncio.shield(balance_waits[keys[i]])
        for token, token_waiter in token_waits.items():
            outcome = await asyncio.shield(token_waiter)
            if isinstance(outcome, TokenMeta):
                metas[token] = outcome
        return [results[i] for i in range(len(keys))], metas

    async def tokens(self, addresses: Sequence[TokenRef]) -> list[TokenOutcome]:
        """Metadata of each token: listed, cached (long TTL) or read from the chain."""
        found: dict[TokenRef, TokenOutcome] = {
            a: m for a in addresses if (m := self._listed.get(a))
        }
        unknown = list(dict.fromkeys(a for a in addresses if a not in found))
        for address, data in zip(
            unknown,
            await self._cache.get_many([codec.token_key(self.chain, a) for a in unknown]),
            strict=True,
        ):
            meta = codec.decode_token(self.chain, address, data)
            if meta is not None:
                found[address] = meta
        waits, mine = _claim(self._tokens_in_flight, [a for a in unknown if a not in found])
        if mine:
            self._start({}, mine)
        for address, waiter in waits.items():
            found[address] = await asyncio.shield(waiter)
        return [found[a] for a in addresses]

    def _start(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
    ) -> None:
        # A task of its own, so a client that disconnects cannot cancel a read others joined.
        task = asyncio.get_running_loop().create_task(self._fetch(balances, tokens))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
    ) -> None:
        try:
            reading = await self._provider.read(list(balances), list(tokens))
        except BaseException as exc:
            log.exception("%s: reading %d balances failed unexpectedly", self.chain, len(balances))
            failure = exc if isinstance(exc, Exception) else RuntimeError("read aborted")
            self._settle(balances, tokens, failure)
            if not isinstance(exc, Exception):
                raise
            return
        # Settled reads leave the in-flight table at once: a later forceRefresh must not join
        # a read that has already finished.
        self._settle(balances, tokens, reading)
        await self._store(reading.balances, reading.tokens)

    def _settle(
        self,
        balances: Mapping[BalanceKey, asyncio.Future[BalanceOutcome]],
        tokens: Mapping[TokenRef, asyncio.Future[TokenOutcome]],
        outcome: Reading | Exception,
    ) -> None:
        for key in balances:
            self._balances_in_flight.pop(key, None)
        for token in tokens:
            self._tokens_in_flight.pop(token, None)
        if isinstance(outcome, Exception):
            _fail(balances, outcome)
            _fail(tokens, outcome)
        else:
            _resolve(balances, outcome.balances)
            _resolve(tokens, outcome.tokens)

    async def _store(
        self, balances: Sequence[BalanceOutcome], tokens: Sequence[TokenOutcome]
    ) -> None:
        # Errors are never cached: the next caller asks the chain again. Metadata without
        # decimals is kept briefly only, in case the contract is deployed or upgraded.
        readings = {
            codec.balance_key(r.key): codec.encode_reading(r)
            for r in balances
            if isinstance(r, BalanceReading)
        }
        metas = [m for m in tokens if isinstance(m, TokenMeta)]
        complete = {_token_key(m): codec.encode_token(m) for m in metas if m.decimals is not None}
        partial = {_token_key(m): codec.encode_token(m) for m in metas if m.decimals is None}
        await self._cache.set_many(readings, self._config.retention)
        await self._cache.set_many(complete, self._config.metadata_ttl)
        await self._cache.set_many(partial, _UNKNOWN_DECIMALS_TTL)


def _token_key(meta: TokenMeta) -> str:
    return codec.token_key(meta.chain, meta.token)


def _claim(
    in_flight: dict[_K, asyncio.Future[_V]], keys: Sequence[_K]
) -> tuple[dict[_K, asyncio.Future[_V]], dict[_K, asyncio.Future[_V]]]:
    """Futures for `keys`: joined from `in_flight`, or created (and registered) as ours."""
    waits: dict[_K, asyncio.Future[_V]] = {}
    mine: dict[_K, asyncio.Future[_V]] = {}
    loop = asyncio.get_running_loop()
    for key in keys:
        if key in waits:
            continue
        future = in_flight.get(key)
        if future is None:
            future = loop.create_future()
            future.add_done_callback(_mark_retrieved)
            in_flight[key] = mine[key] = future
        waits[key] = future
    return waits, mine


def _resolve(futures: Mapping[_K, asyncio.Future[_V]], values: Sequence[_V]) -> None:
    for future, value in zip(futures.values(), values, strict=True):
        if not future.done():
            future.set_result(value)


def _fail(futures: Mapping[_K, asyncio.Future[_V]], exc: Exception) -> None:
    for future in futures.values():
        if not future.done():
            future.set_exception(exc)


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    """Fetch failures reach every waiter; don't also warn about them at garbage collection."""
    if not future.cancelled():
        future.exception()
