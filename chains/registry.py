"""The configured chains, each with its provider and reader, built once in the app lifespan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from chains.base import ChainProvider
from chains.bitcoin.provider import BitcoinProvider
from chains.cache.store import ReadingStore
from chains.errors import InvalidAddress, UnsupportedChain
from chains.evm.provider import EvmProvider
from chains.metrics import Metrics
from chains.models import ChainFamily, TokenMeta, TokenRef
from chains.reader import ChainReader
from chains.starknet.provider import DEFINITE_CODES as STARKNET_DEFINITE_CODES
from chains.starknet.provider import STRK_ADDRESS, StarknetProvider
from chains.text import excerpt
from chains.tokens.tokenlist import load_token_list, native_token
from chains.transport.jsonrpc import JsonRpcClient
from chains.transport.pools import Pools
from settings import ChainConfig, ConfigError, Settings


@dataclass(frozen=True)
class Chain:
    """A configured chain: its settings, how to read it, and the tokens it lists."""

    config: ChainConfig
    provider: ChainProvider
    reader: ChainReader
    native: TokenMeta
    listed: Mapping[TokenRef, TokenMeta]

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

    async def aclose(self) -> None:
        """Stop every chain's reads in flight."""
        for chain in self._chains.values():
            await chain.reader.aclose()

    def get(self, chain_id: str) -> Chain:
        chain = self._chains.get(chain_id.strip().lower())
        if chain is None:
            known = ", ".join(sorted(self._chains))
            raise UnsupportedChain(
                f"unknown chain {excerpt(chain_id)}; this service knows: {known}", chain=chain_id
            )
        return chain


def build_registry(
    settings: Settings, pools: Pools, store: ReadingStore, metrics: Metrics
) -> ChainRegistry:
    chains: dict[str, Chain] = {}
    for config in settings.chains.values():
        http = pools.client(config.id, config.max_connections)
        provider = _provider(config, http, metrics)
        native = native_token(config)
        listed = {native.token: native, **load_token_list(config, provider.normalize_token)}
        reader = ChainReader(config.id, provider, listed, store, metrics)
        chains[config.id] = Chain(config, provider, reader, native, listed)
    return ChainRegistry(chains)


def _provider(config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics) -> ChainProvider:
    """The family decides the provider; adding a chain of a known family is config only."""
    if config.family is ChainFamily.BITCOIN:
        return BitcoinProvider(config, http, metrics, network=config.network)
    if config.family is ChainFamily.STARKNET:
        rpc = _rpc(config, http, metrics, STARKNET_DEFINITE_CODES)
        try:
            return StarknetProvider(
                config, rpc, native_contract=config.native.contract or STRK_ADDRESS
            )
        except InvalidAddress as exc:
            raise ConfigError(f"[chains.{config.id}] native.contract: {exc}") from exc
    return EvmProvider(config, _rpc(config, http, metrics))


def _rpc(
    config: ChainConfig,
    http: httpx.AsyncClient,
    metrics: Metrics,
    definite_codes: frozenset[int] = frozenset(),
) -> JsonRpcClient:
    return JsonRpcClient(
        config.id,
        config.rpc_urls,
        http,
        metrics,
        timeout=config.timeout,
        cooldown=config.cooldown,
        threshold=config.failure_threshold,
        max_response_bytes=config.max_response_bytes,
        max_concurrency=config.max_connections,
        definite_codes=definite_codes,
    )
