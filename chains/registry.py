"""The configured chains, each with its provider and reader, built once in the app lifespan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from chains.base import ChainProvider
from chains.bitcoin.history import EsploraHistory
from chains.bitcoin.provider import BitcoinProvider
from chains.cache.base import Cache
from chains.cache.store import ReadingStore
from chains.evm.addresses import checksum_evm_address
from chains.evm.history import EvmHistory
from chains.evm.provider import EvmProvider
from chains.history.base import HistorySource
from chains.history.budget import ScanBudget
from chains.history.kept import Scans
from chains.history.shared import SharedHistory
from chains.history.timelines import Timelines
from chains.reader import ChainReader
from chains.starknet.history import StarknetHistory
from chains.starknet.provider import DEFINITE_CODES as STARKNET_DEFINITE_CODES
from chains.starknet.provider import STRK_ADDRESS, StarknetProvider
from chains.tokens.tokenlist import load_token_list, native_token
from chains.transport.jsonrpc import JsonRpcClient
from core.errors import InvalidAddress, UnsupportedChain
from core.metrics import Metrics
from core.models import ChainFamily, TokenMeta, TokenRef
from core.pools import Pools
from core.text import excerpt
from settings import ChainConfig, ConfigError, Secret, Settings


@dataclass(frozen=True)
class Chain:
    """A configured chain: its settings, how to read it, and the tokens it lists."""

    config: ChainConfig
    provider: ChainProvider
    reader: ChainReader
    native: TokenMeta
    listed: Mapping[TokenRef, TokenMeta]
    history: Timelines

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

    def normalize_token(self, chain_id: str, text: str) -> tuple[str, TokenRef]:
        """The canonical (chain id, token) that `text` names on `chain_id`."""
        chain = self.get(chain_id)
        return chain.id, chain.provider.normalize_token(text)

    def get(self, chain_id: str) -> Chain:
        chain = self._chains.get(chain_id.strip().lower())
        if chain is None:
            known = ", ".join(sorted(self._chains))
            raise UnsupportedChain(
                f"unknown chain {excerpt(chain_id)}; this service knows: {known}", chain=chain_id
            )
        return chain


def build_registry(
    settings: Settings,
    pools: Pools,
    store: ReadingStore,
    metrics: Metrics,
    shared: Cache | None = None,
) -> ChainRegistry:
    """Every configured chain; `shared` (Redis) also carries what is final in history."""
    chains: dict[str, Chain] = {}
    limits = settings.limits
    # One budget and one store of final timelines for every chain of the process.
    budget = ScanBudget(
        scans=limits.max_scans, blocks=limits.max_scan_blocks, events=limits.max_scan_events
    )
    kept = Scans(2 * limits.max_history_events)
    for configured in settings.chains.values():
        config = _checksummed_multicall3(configured)
        http = pools.client(config.id, config.max_connections)
        provider, source = _family(config, http, metrics)
        native = native_token(config)
        listed = {native.token: native, **load_token_list(config, provider.normalize_token)}
        reader = ChainReader(config.id, provider, listed, store, metrics)
        history = Timelines(
            source,
            finality_depth=config.final_depth,
            max_events=limits.max_history_events,
            per_request=config.log_range,
            budget=budget,
            kept=kept,
            shared=None if shared is None else SharedHistory(config.id, shared),
        )
        chains[config.id] = Chain(config, provider, reader, native, listed, history)
    return ChainRegistry(chains)


def _family(
    config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics
) -> tuple[ChainProvider, HistorySource]:
    """The family decides the provider and the history source; adding a chain of a known
    family is config only. Reads at a past block go to the archive nodes, if any."""
    if config.family is ChainFamily.BITCOIN:
        bitcoin = BitcoinProvider(config, http, metrics, network=config.network)
        return bitcoin, EsploraHistory(config.id, bitcoin)
    if config.family is ChainFamily.STARKNET:
        return _starknet(config, http, metrics)
    rpc = _rpc(config, http, metrics)
    # Past reads have their own client (their own circuits): a pruned node refusing old
    # blocks must never take the current reads of the same node down with it.
    archive = _rpc(config, http, metrics, urls=config.history_rpc_urls, past=True)
    provider = EvmProvider(config, rpc, archive=archive)
    return provider, EvmHistory(config, rpc, provider, archive=archive, metrics=metrics)


def _checksummed_multicall3(config: ChainConfig) -> ChainConfig:
    """`config` with its Multicall3 address in EIP-55 form; a wrong checksum is a config
    error (the settings checked only the shape: EVM addresses are this package's to judge)."""
    if config.multicall3 is None:
        return config
    try:
        address = checksum_evm_address(config.multicall3)
    except InvalidAddress as exc:
        raise ConfigError(f"[chains.{config.id}]: multicall3 {exc.message}") from None
    return config.model_copy(update={"multicall3": address})


def _rpc(
    config: ChainConfig,
    http: httpx.AsyncClient,
    metrics: Metrics,
    definite_codes: frozenset[int] = frozenset(),
    *,
    urls: tuple[Secret, ...] = (),
    past: bool = False,
) -> JsonRpcClient:
    """A client of `urls`, by default the chain's `rpc_urls`; `past` for reads at a past block."""
    return JsonRpcClient(
        config.id,
        urls or config.rpc_urls,
        http,
        metrics,
        timeout=config.timeout,
        cooldown=config.cooldown,
        threshold=config.failure_threshold,
        max_response_bytes=config.max_response_bytes,
        max_concurrency=config.max_connections,
        definite_codes=definite_codes,
        past=past,
    )


def _starknet(
    config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics
) -> tuple[ChainProvider, HistorySource]:
    rpc = _rpc(config, http, metrics, STARKNET_DEFINITE_CODES)
    urls = config.history_rpc_urls
    archive = _rpc(config, http, metrics, STARKNET_DEFINITE_CODES, urls=urls, past=True)
    try:
        provider = StarknetProvider(
            config, rpc, native_contract=config.native.contract or STRK_ADDRESS, archive=archive
        )
    except InvalidAddress as exc:
        raise ConfigError(f"[chains.{config.id}] native.contract: {exc}") from exc
    history = StarknetHistory(config.id, rpc, provider, archive=archive)
    return provider, history
