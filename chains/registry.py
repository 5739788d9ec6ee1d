"""The configured chains, each with its provider and reader, built once in the app lifespan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from chains.cache import Cache
from chains.config import ChainConfig, ConfigError, Settings
from chains.errors import UnsupportedChain
from chains.evm import EvmProvider
from chains.jsonrpc import JsonRpcClient
from chains.metrics import Metrics
from chains.models import ChainFamily, TokenMeta
from chains.provider import ChainProvider
from chains.reader import ChainReader
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
    if config.family is ChainFamily.EVM:
        rpc = JsonRpcClient(config.id, config.rpc_urls, http, metrics, timeout=config.timeout)
        return EvmProvider(config, rpc)
    raise ConfigError(f"[chains.{config.id}]: family {config.family.value!r} is not supported yet")
