"""What one process opens in the app lifespan and every request shares.

One HTTP client for upstreams, one Redis client when configured (cache and persisted
queries share it), the chain registry, prices, the document cache and the cost model. Built
by `open_services`, closed by `Services.close`; nothing here exists at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from redis.asyncio import Redis
from starlette.requests import Request

from chains.cache.base import Cache
from chains.cache.memory import MemoryCache
from chains.cache.redis import RedisCache
from chains.cache.resilient import ResilientCache
from chains.metrics import Metrics
from chains.registry import ChainRegistry, build_registry
from chains.tokens.spam import SpamPolicy
from chains.transport.pools import Pools
from graph.context import Context
from graph.cost import CostModel
from graph.documents import DocumentCache
from graph.http import Pipeline
from graph.persisted import LocalOnly, PersistedQueries, RedisPersistedQueries
from graph.schema import build_schema
from loaders.context import build_loaders
from prices.build import build_price_reader
from prices.reader import PriceReader
from resolvers.scope import CacheHints, RequestScope
from settings import Settings

log = logging.getLogger("balance_graph")


@dataclass(frozen=True)
class Contexts:
    """Builds each request's context: fresh loaders, whose caches must not outlive it."""

    settings: Settings
    registry: ChainRegistry
    prices: PriceReader
    spam: SpamPolicy

    def __call__(self, request: Request) -> Context:
        settings = self.settings
        scope = RequestScope(
            registry=self.registry,
            loaders=build_loaders(self.registry, self.prices),
            limits=settings.limits,
            default_max_age=settings.cache.default_max_age,
            spam=self.spam,
            hints=CacheHints(settings.cache.default_max_age, settings.prices.cache_ttl),
        )
        return Context(scope=scope, request_id=request.state.request_id)


@dataclass(frozen=True)
class Services:
    """Shared by every request of this process."""

    settings: Settings
    registry: ChainRegistry
    metrics: Metrics
    cache: ResilientCache
    pipeline: Pipeline
    pools: Pools
    redis: Redis | None

    async def close(self) -> None:
        await self.pools.aclose()
        await self.cache.close()
        if self.redis is not None:
            await self.redis.aclose()


def open_services(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> Services:
    metrics = Metrics()
    pools = Pools(transport)
    redis = _redis(settings)
    backend: Cache = RedisCache(redis) if redis else MemoryCache(settings.cache.memory_max_entries)
    cache = ResilientCache(backend, "redis" if redis else "memory")
    registry = build_registry(settings, pools, cache, metrics)
    prices = build_price_reader(settings, registry, pools, cache, metrics)
    schema = build_schema()._schema
    documents = settings.documents
    persisted: PersistedQueries = (
        RedisPersistedQueries(
            redis, max_entries=documents.persisted_max_entries, ttl=documents.persisted_ttl
        )
        if redis
        else LocalOnly()
    )
    contexts = Contexts(settings, registry, prices, SpamPolicy.configured(settings.spam, registry))
    pipeline = Pipeline(
        schema=schema,
        limits=settings.limits,
        documents=DocumentCache(schema, settings.limits, documents.cache_bytes),
        persisted=persisted,
        cost=CostModel(schema, registry),
        context=contexts,
        max_cache_age=settings.server.max_cache_age,
        persisted_max_bytes=documents.persisted_max_bytes,
    )
    log.info(
        "serving %d chains (%s) with the %s cache",
        len(registry),
        ", ".join(c.id for c in registry),
        "redis" if redis else "in-process",
    )
    return Services(settings, registry, metrics, cache, pipeline, pools, redis)


def _redis(settings: Settings) -> Redis | None:
    url = settings.cache.redis_url
    if url is None:
        return None
    return Redis.from_url(
        url.value, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
    )
