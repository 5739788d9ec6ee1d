"""The configured price sources, in order, behind the shared cache."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from chains.cache.base import Cache
from chains.registry import ChainRegistry
from core.clock import utcnow
from core.errors import ServiceError
from core.metrics import Metrics
from core.pools import Pools
from prices.base import PriceKey, PriceSource
from prices.defillama import DefiLlamaPrices
from prices.fallback import FallbackSources
from prices.reader import PriceReader
from prices.static import StaticPrices
from settings import ConfigError, Settings


def build_price_reader(
    settings: Settings,
    registry: ChainRegistry,
    pools: Pools,
    cache: Cache,
    metrics: Metrics,
) -> PriceReader:
    """The configured price sources, in order, behind the shared cache."""
    sources: list[PriceSource] = []
    for name in settings.prices.sources:
        if name == "static":
            sources.append(StaticPrices(_static_prices(settings, registry), utcnow))
        elif name == "defillama":
            sources.append(
                DefiLlamaPrices(
                    pools.client("defillama", 8),
                    metrics,
                    partial(_coin_id, registry),
                    base_url=settings.prices.defillama_url,
                    timeout=settings.prices.timeout,
                )
            )
    return PriceReader(FallbackSources(sources), cache, settings.prices.cache_ttl)


def _static_prices(settings: Settings, registry: ChainRegistry) -> dict[PriceKey, Decimal]:
    prices: dict[PriceKey, Decimal] = {}
    for (chain_id, token), usd in settings.prices.static.items():
        where = f"[prices.static] {chain_id}:{token}"
        try:
            chain = registry.get(chain_id)
            prices[PriceKey(chain.id, chain.provider.normalize_token(token))] = usd
        except ServiceError as exc:
            raise ConfigError(f"{where}: {exc.message}") from exc
    return prices


def _coin_id(registry: ChainRegistry, key: PriceKey) -> str | None:
    """DefiLlama's id for a token: `coingecko:<id>` for native assets, `<chain>:<address>`."""
    chain = registry.get(key.chain)
    if key.token.is_native:
        return chain.config.native.price_id
    if key.token.token_id is not None:  # one id of an ERC-1155 contract: no market price
        return None
    return f"{chain.config.price_chain or chain.id}:{key.token.contract}"
