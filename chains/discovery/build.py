"""One chain's `Discovery`, from its `discovery = [...]` keys (`settings.discovery`)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from chains.cache.base import Cache
from chains.discovery.base import IndexerSource, RangeSource
from chains.discovery.indexers import AlchemyTokens, BlockscoutTokens, EtherscanTokens
from chains.discovery.service import BackgroundScans, Discovery, Head
from chains.discovery.shared import SharedDiscovery
from chains.transport.clients import chain_client
from core.metrics import Metrics
from core.models import TokenRef
from settings import ChainConfig


def build_discovery(
    config: ChainConfig,
    *,
    logs: RangeSource | None,
    http: httpx.AsyncClient,
    metrics: Metrics,
    head: Head,
    budget: BackgroundScans,
    max_tokens: int,
    normalize: Callable[[str], TokenRef],
    shared: Cache | None = None,
) -> Discovery | None:
    """The chain's discovery, or `None` when it has no source. `logs` is the family's own
    range source (none for a family without one: the settings refuse `logs` there)."""
    sources: list[RangeSource | IndexerSource] = []
    for name in config.discovery:
        if name == "logs" and logs is not None:
            sources.append(logs)
        elif name == "blockscout" and config.blockscout_url:
            sources.append(
                BlockscoutTokens(config.id, config.blockscout_url, http, normalize, max_tokens)
            )
        elif name == "etherscan" and config.etherscan_url and config.etherscan_key:
            sources.append(
                EtherscanTokens(
                    config.id,
                    config.etherscan_url,
                    config.etherscan_key,
                    config.chain_id,
                    http,
                    normalize,
                )
            )
        elif name == "alchemy" and config.alchemy_url:
            urls = (config.alchemy_url,)
            rpc = chain_client(config, http, metrics, urls=urls, role="alchemy")
            sources.append(AlchemyTokens(config.id, rpc, normalize, max_tokens))
    if not sources:
        return None
    return Discovery(
        config.id,
        sources,
        head=head,
        finality_depth=config.final_depth,
        from_block=config.discovery_from_block,
        max_tokens=max_tokens,
        budget=budget,
        shared=None if shared is None else SharedDiscovery(config.id, shared, normalize),
    )
