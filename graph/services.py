"""What one process opens in the app lifespan and every request shares.

One HTTP client for upstreams, one Redis client when configured (cache, persisted queries
and metering share it), the chain registry, prices, the document cache, the cost model and
the meter (on Redis, else on the machine's SQLite file). Built by `open_services`, closed by
`Services.close`; nothing here exists at import time.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass, field

import httpx
from graphql import GraphQLSchema
from starlette.requests import Request

from chains.cache.base import Cache
from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient, redis_client
from chains.cache.lease import RedisLeases
from chains.cache.memory import MemoryCache
from chains.cache.redis import RedisCache
from chains.cache.resilient import ResilientCache
from chains.cache.store import ReadingStore
from chains.live.hub import LiveHub
from chains.registry import ChainRegistry, build_registry
from chains.tokens.spam import SpamPolicy
from core.metrics import Metrics
from core.pools import Pools
from graph.checks.cost import CostModel
from graph.checks.documents import DocumentCache
from graph.checks.persisted import LocalOnly, PersistedQueries, RedisPersistedQueries
from graph.checks.planning import Planner
from graph.execution.answers import ResponseCache
from graph.execution.context import Context
from graph.execution.direct import executor_for
from graph.http.endpoint import Pipeline
from graph.schema.subgraph import build_schema
from graph.streams.opening import Streams
from loaders.context import build_loaders
from metering.meter import Meter
from metering.redis_store import RedisStore
from metering.sqlite_store import SqliteStore
from metering.store import MeterStore
from metering.streams import OpenStreams
from prices.build import build_price_reader
from prices.reader import PriceReader
from resolvers.scope import CacheHints, RequestScope, Views
from settings import ConfigError, Settings

log = logging.getLogger("balance_graph")


@dataclass(frozen=True)
class Contexts:
    """Builds each request's context: fresh loaders, whose caches must not outlive it, and
    the service's `Views` of warm rows, which outlive every request."""

    settings: Settings
    registry: ChainRegistry
    prices: PriceReader
    spam: SpamPolicy
    views: Views = field(default_factory=Views)

    def __call__(self, request: Request) -> Context:
        return self.build(request.state.request_id)

    def build(self, request_id: str) -> Context:
        """A fresh context (new loaders, a deadline from now): a request's, or one event's
        of a subscription."""
        settings = self.settings
        deadline = asyncio.get_running_loop().time() + settings.server.request_deadline
        scope = RequestScope(
            registry=self.registry,
            loaders=build_loaders(self.registry, self.prices, deadline),
            limits=settings.limits,
            default_max_age=settings.cache.default_max_age,
            spam=self.spam,
            views=self.views,
            deadline=deadline,
            hints=CacheHints(settings.cache.default_max_age, settings.prices.cache_ttl),
        )
        return Context(scope=scope, request_id=request_id)


@dataclass(frozen=True)
class Services:
    """Shared by every request of this process."""

    settings: Settings
    registry: ChainRegistry
    metrics: Metrics
    redis_breaker: Breaker
    pipeline: Pipeline
    pools: Pools
    redis: RedisClient | None
    streams: Streams
    """Live subscriptions: the chain followers, who holds what open."""

    def describe(self) -> str:
        """What this process serves, for the log."""
        return (
            f"serving {len(self.registry)} chains ({', '.join(c.id for c in self.registry)}) "
            f"with the {'redis' if self.redis else 'in-process'} cache; keys, limits and "
            f"credits in {self.pipeline.meter.store.where}"
        )

    async def close(self) -> None:
        await self.streams.hub.aclose()
        await self.registry.aclose()
        await self.pools.aclose()
        await self.pipeline.meter.store.aclose()
        if self.redis is not None:
            await self.redis.aclose()


def open_services(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> Services:
    metrics = Metrics()
    pools = Pools(transport)
    redis = _redis(settings)
    breaker = Breaker(
        "redis",
        cooldown=settings.cache.redis_retry_after,
        timeout=settings.cache.redis_timeout,
        gauge=metrics.cache_backend_state,
    )
    shared = ResilientCache(RedisCache(redis), breaker) if redis else None
    store = ReadingStore(
        max_entries=settings.cache.memory_max_entries,
        retention=settings.cache.retention,
        metadata_ttl=settings.cache.metadata_ttl,
        shared=shared,
    )
    leases = RedisLeases(redis, breaker) if redis else None
    registry = build_registry(settings, pools, store, metrics, shared, leases)
    price_cache: Cache = shared or MemoryCache(10_000)
    prices = build_price_reader(settings, registry, pools, price_cache, metrics)
    schema = build_schema()._schema
    contexts = Contexts(
        settings, registry, prices, SpamPolicy.configured(settings.spam, registry.normalize_token)
    )
    pipeline = Pipeline(
        schema=schema,
        # `Balance.of` shares a row's object across requests and never changes it.
        executor=executor_for(schema, shared=frozenset({"Balance"})),
        limits=settings.limits,
        planner=_planner(settings, schema, registry, redis, breaker),
        meter=_meter(settings, redis, breaker, metrics),
        responses=ResponseCache(
            settings.cache.response_cache_bytes,
            metrics,
            shared,
            max_entries=settings.cache.response_cache_entries,
            shared_bytes=settings.cache.response_cache_shared_bytes,
        ),
        context=contexts,
        max_cache_age=settings.server.max_cache_age,
        metrics=metrics,
    )
    streams = Streams(
        pipeline=pipeline,
        origins=settings.server.cors_origins,
        context=contexts.build,
        hub=LiveHub({c.id: c.live for c in registry if c.live is not None}, metrics),
        holds=OpenStreams(
            settings.limits.max_subscriptions_per_caller, settings.limits.max_watched_lookups
        ),
        config=settings.live,
        metrics=metrics,
    )
    return Services(settings, registry, metrics, breaker, pipeline, pools, redis, streams)


def check_services(settings: Settings) -> None:
    """Open what a worker opens (token lists, the key store under `[auth] data_dir`, price
    and spam settings the registry judges), then close it: `ConfigError` names what failed."""

    async def open_and_close() -> None:
        services = open_services(settings)
        await services.close()

    asyncio.run(open_and_close())


def _planner(
    settings: Settings,
    schema: GraphQLSchema,
    registry: ChainRegistry,
    redis: RedisClient | None,
    breaker: Breaker,
) -> Planner:
    """The checks before I/O: documents parsed once, persisted queries (shared through Redis
    when there is one), the cost model."""
    documents = settings.documents
    persisted: PersistedQueries = (
        RedisPersistedQueries(
            redis,
            breaker,
            max_entries=documents.persisted_max_entries,
            ttl=documents.persisted_ttl,
        )
        if redis
        else LocalOnly()
    )
    return Planner(
        schema=schema,
        documents=DocumentCache(
            schema, settings.limits, documents.cache_bytes, max_entries=documents.cache_entries
        ),
        persisted=persisted,
        persisted_max_bytes=documents.persisted_max_bytes,
        cost=CostModel(schema, registry, settings.limits),
        limits=settings.limits,
    )


def _meter(
    settings: Settings, redis: RedisClient | None, breaker: Breaker, metrics: Metrics
) -> Meter:
    store: MeterStore = RedisStore(redis, breaker) if redis else _sqlite_store(settings)
    return Meter(
        store,
        limits=settings.rate_limits,
        required=settings.auth.required,
        trusted_proxies=settings.server.trusted_proxies,
        metrics=metrics,
        unavailable_retry=settings.cache.redis_retry_after if redis else 1,
    )


def _sqlite_store(settings: Settings) -> SqliteStore:
    directory = settings.auth.store_dir()
    try:
        return SqliteStore(directory)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"[auth] data_dir: cannot keep API keys in {directory}: {reason} "
            "(set data_dir, or BALANCE_GRAPH_DATA_DIR, to a writable directory)"
        ) from exc


def _redis(settings: Settings) -> RedisClient | None:
    """The process's Redis client, in the configured `redis_mode`. Its socket timeouts are a
    backstop only: the `Breaker` times commands by `redis_timeout` of the event loop's
    attention, so a loop busy with a burst of requests does not read as a Redis failure."""
    backstop = max(2.0, 8 * settings.cache.redis_timeout)
    return redis_client(settings.cache, timeout=backstop)
