"""The configured chains, each with its provider and reader, built once in the app lifespan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import httpx

from chains.bitcoin import BitcoinProvider
from chains.cache import Cache
from chains.clock import utcnow
from chains.config import ChainConfig, ConfigError, Settings
from chains.defillama import DefiLlamaPrices
from chains.errors import InvalidAddress, ServiceError, UnsupportedChain
from chains.evm import EvmProvider
from chains.jsonrpc import JsonRpcClient
from chains.metrics import Metrics
from chains.models import NATIVE, ChainFamily, TokenMeta
from chains.prices import PriceChain, PriceKey, PriceReader, PriceSource, StaticPrices
from chains.provider import ChainProvider
from chains.reader import ChainReader
from chains.starknet import DEFINITE_CODES as STARKNET_DEFINITE_CODES
from chains.starknet import STRK_ADDRESS, StarknetProvider
from chains.tokenlist import load_token_list, native_token


@dataclass(frozen=True)
class Chain:
    """A configured chain: its settings, how to read it, and the tokens it lists."""

    config: ChainConfig
    provider: ChainProvider
    reader: ChainReader
    native: TokenMeta
    listed: Mapping[str, TokenMeta]

    @property
    def id(self) -> str:
        return self.config.id


class ChainRegistry:
    """Looks chains up by id; an unknown id is an `UnsupportedChain` error."""

    def __init__(self, chains: Mapping[str, Chain]) -> None:
        self._chains = dict(chains)

    def __iter__(self) -> Iterator[Chain]:
        return iter(self._chains.values())

    def __len__(self) -> int:
        return len(self._chains)

    def get(self, chain_id: str) -> Chain:
        chain = self._chains.get(chain_id.strip().lower())
        if chain is None:
            known = ", ".join(sorted(self._chains))
            raise UnsupportedChain(
                f"unknown chain {chain_id!r}; this service knows: {known}", chain=chain_id
            )
        return chain


def build_registry(
    settings: Settings, http: httpx.AsyncClient, cache: Cache, metrics: Metrics
) -> ChainRegistry:
    chains: dict[str, Chain] = {}
    for config in settings.chains.values():
        provider = _provider(config, http, metrics)
        native = native_token(config)
        listed = {native.address: native, **load_token_list(config, provider.normalize_token)}
        reader = ChainReader(config.id, provider, listed, cache, settings.cache, metrics)
        chains[config.id] = Chain(config, provider, reader, native, listed)
    return ChainRegistry(chains)


def _provider(config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics) -> ChainProvider:
    """The family decides the provider; adding a chain of a known family is config only."""
    if config.family is ChainFamily.BITCOIN:
        return BitcoinProvider(config, http, metrics, network=config.network)
    if config.family is ChainFamily.STARKNET:
        rpc = JsonRpcClient(
            config.id,
            config.rpc_urls,
            http,
            metrics,
            timeout=config.timeout,
            definite_codes=STARKNET_DEFINITE_CODES,
        )
        try:
            return StarknetProvider(
                config, rpc, native_contract=config.native.contract or STRK_ADDRESS
            )
        except InvalidAddress as exc:
            raise ConfigError(f"[chains.{config.id}] native.contract: {exc}") from exc
    rpc = JsonRpcClient(config.id, config.rpc_urls, http, metrics, timeout=config.timeout)
    return EvmProvider(config, rpc)


def build_price_reader(
    settings: Settings,
    registry: ChainRegistry,
    http: httpx.AsyncClient,
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
                    http,
                    metrics,
                    partial(_coin_id, registry),
                    base_url=settings.prices.defillama_url,
                )
            )
    return PriceReader(PriceChain(sources), cache, settings.prices.cache_ttl)


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
    if key.token == NATIVE:
        return chain.config.native.price_id
    if ":" in key.token:  # an ERC-1155 id: no market price
        return None
    return f"{chain.config.price_chain or chain.id}:{key.token}"
