"""The configured chains, each with its provider and reader, built once in the app lifespan."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from chains.base import ChainProvider
from chains.bitcoin.history import EsploraHistory
from chains.bitcoin.provider import BitcoinProvider
from chains.cache.base import Cache
from chains.cache.lease import Leases
from chains.cache.store import ReadingStore
from chains.discovery.base import RangeSource
from chains.discovery.build import build_discovery
from chains.discovery.service import BackgroundScans, Discovery
from chains.evm.addresses import checksum_evm_address
from chains.evm.discovery import EvmLogDiscovery
from chains.evm.history import EvmHistory
from chains.evm.provider import EvmProvider
from chains.heads import SharedHeads
from chains.history.base import HistorySource
from chains.history.budget import ScanBudget
from chains.history.kept import Scans
from chains.history.shared import SharedHistory
from chains.history.spans import AdaptiveSpan, results_within
from chains.history.timelines import Timelines
from chains.live.headers import EvmHeads, HeadSource, NumberHeads
from chains.live.source import BlockReader, LiveChain
from chains.reader import ChainReader
from chains.shared_reads import SharedReads
from chains.starknet.discovery import StarknetEventDiscovery
from chains.starknet.history import StarknetHistory
from chains.starknet.provider import DEFINITE_CODES as STARKNET_DEFINITE_CODES
from chains.starknet.provider import STRK_ADDRESS, StarknetProvider
from chains.tokens.shipped import ShippedList, merge, shipped_lists, with_logos
from chains.tokens.tokenlist import load_token_list, native_token
from chains.transport.clients import chain_client
from core.errors import ChainError, InvalidAddress, UnsupportedChain
from core.metrics import Metrics
from core.models import NATIVE_TOKEN, BalanceKey, BalanceReading, ChainFamily, TokenMeta, TokenRef
from core.pools import Pools
from core.text import excerpt
from settings import ChainConfig, ConfigError, Settings

DISCOVERY_SCANS = 8
"""Background discovery scans one process runs at once, across every chain."""


@dataclass(frozen=True)
class Chain:
    """A configured chain: its settings, how to read it, and the tokens it lists."""

    config: ChainConfig
    provider: ChainProvider
    reader: ChainReader
    native: TokenMeta
    listed: Mapping[TokenRef, TokenMeta]
    history: Timelines
    discovery: Discovery | None = None
    """Which tokens a wallet holds beyond the list (`None`: discovery is off)."""
    unsettled: Mapping[TokenRef, TokenMeta] = field(default_factory=dict)
    """Listed tokens whose shipped lists disagree on symbol or decimals: read with the list,
    their metadata from the chain."""
    own: tuple[TokenRef, ...] = (NATIVE_TOKEN,)
    """The native asset and the operator's own list (`tokens =`): always read."""
    live: LiveChain | None = None
    """How live balances follow the chain (`chains.live`); `None`: not followed."""

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def list_tokens(self) -> list[TokenRef]:
        """What a selection without `tokens` reads when the chain does not discover: the
        native asset and every token the lists name (its own and the shipped ones)."""
        return [*self.listed, *self.unsettled]


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
            if chain.discovery is not None:
                await chain.discovery.aclose()

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
    leases: Leases | None = None,
) -> ChainRegistry:
    """Every configured chain; `shared` (Redis) also carries what is final in history and
    discovery, and `leases` (Redis) share cold reads between processes."""
    limits = settings.limits
    process = _Process(
        settings,
        pools,
        store,
        metrics,
        shared,
        leases,
        # One budget and one store of final timelines for every chain of the process;
        # background discovery has its own, smaller bound on scans at once.
        budget=ScanBudget(
            scans=limits.max_scans, blocks=limits.max_scan_blocks, events=limits.max_scan_events
        ),
        kept=Scans(2 * limits.max_history_events),
        background=BackgroundScans(DISCOVERY_SCANS),
        lists=shipped_lists() if settings.tokens.shipped_lists else [],
    )
    chains = [_chain(configured, process) for configured in settings.chains.values()]
    return ChainRegistry({chain.id: chain for chain in chains})


@dataclass(frozen=True)
class _Process:
    """What every chain of one process shares."""

    settings: Settings
    pools: Pools
    store: ReadingStore
    metrics: Metrics
    shared: Cache | None
    leases: Leases | None
    budget: ScanBudget
    kept: Scans
    background: BackgroundScans
    lists: list[ShippedList]


def _chain(configured: ChainConfig, process: _Process) -> Chain:
    config = _checksummed_multicall3(configured)
    settings, metrics, shared = process.settings, process.metrics, process.shared
    http = process.pools.client(config.id, config.max_connections)
    family = _family(config, http, metrics)
    provider = family.provider
    gateway = settings.tokens.ipfs_gateway
    native = native_token(config, gateway)
    shipped = merge(config, process.lists, provider.normalize_token, gateway)
    own = with_logos(_listed(config, provider, gateway), shipped)
    listed = {native.token: native, **shipped.trusted, **own}
    unsettled = {t: m for t, m in shipped.unsettled.items() if t not in own}
    reader = ChainReader(
        config.id,
        provider,
        listed,
        process.store,
        metrics,
        unsettled=unsettled,
        shared_reads=_shared_reads(config.id, process),
    )
    heads = SharedHeads(config.id, shared, config.head_interval(config.family.value))
    history = Timelines(
        family.history,
        finality_depth=config.final_depth,
        max_events=settings.limits.max_history_events,
        per_request=config.log_range,
        budget=process.budget,
        kept=process.kept,
        shared=None if shared is None else SharedHistory(config.id, shared),
        heads=heads,
    )
    discovery = build_discovery(
        config,
        logs=family.logs,
        http=http,
        metrics=metrics,
        head=history.head,
        budget=process.background,
        max_tokens=settings.limits.max_discovered_tokens,
        normalize=provider.normalize_token,
        shared=shared,
    )
    return Chain(
        config,
        provider,
        reader,
        native,
        listed,
        history,
        discovery,
        unsettled,
        own=(native.token, *own),
        live=_live(config, family, heads, process.store),
    )


def _shared_reads(chain: str, process: _Process) -> SharedReads | None:
    """How the chain's cold reads are shared with other processes (`None`: they are not)."""
    cache = process.settings.cache
    if process.leases is None or not cache.shared_reads:
        return None
    return SharedReads(
        chain, process.leases, process.store, process.metrics, ttl=cache.shared_read_lease
    )


def _live(
    config: ChainConfig, family: _Family, heads: SharedHeads, store: ReadingStore
) -> LiveChain:
    """How live balances follow the chain: its family's heads and block reads."""
    return LiveChain(
        chain=config.id,
        heads=family.heads,
        shared=heads,
        read=family.read_block,
        store=store,
        interval=config.head_interval(config.family.value),
        full_refresh_blocks=config.full_refresh_blocks,
        ws_urls=config.ws_urls,
        bloom=config.family is ChainFamily.EVM,
    )


@dataclass(frozen=True)
class _Family:
    """What a chain's family reads it with."""

    provider: ChainProvider
    history: HistorySource
    heads: HeadSource
    """Where live balances learn of new blocks."""
    read_block: BlockReader
    """Balances as of one recent block (live balances)."""
    logs: RangeSource | None = None
    """The family's discovery from its own events, if it has one."""


def _listed(
    config: ChainConfig, provider: ChainProvider, gateway: str
) -> dict[TokenRef, TokenMeta]:
    """The chain's own token list; a problem with it names the chain's `tokens` key."""
    try:
        return load_token_list(config, provider.normalize_token, gateway)
    except ConfigError as exc:
        raise ConfigError(f"[chains.{config.id}] tokens: {exc}") from exc.__cause__


def _family(config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics) -> _Family:
    """The family decides the provider, the history source and discovery from events; adding
    a chain of a known family is config only. Reads at a past block go to the archive nodes,
    if any; discovery scans have their own client too (their own circuits): a heavy scan a
    caller asked for never takes the chain's current reads down with it."""
    if config.family is ChainFamily.BITCOIN:
        bitcoin = BitcoinProvider(config, http, metrics, network=config.network)
        esplora = EsploraHistory(config.id, bitcoin)
        return _Family(bitcoin, esplora, NumberHeads(esplora.head), _latest(bitcoin))
    if config.family is ChainFamily.STARKNET:
        return _starknet(config, http, metrics)
    rpc = chain_client(config, http, metrics)
    # Past reads have their own client (their own circuits): a pruned node refusing old
    # blocks must never take the current reads of the same node down with it.
    archive = chain_client(config, http, metrics, urls=config.history_rpc_urls, past=True)
    provider = EvmProvider(config, rpc, archive=archive)
    history = EvmHistory(config, rpc, provider, archive=archive, metrics=metrics)
    span = _discovery_span(config)
    scans = chain_client(config, http, metrics, role="discovery")
    logs = EvmLogDiscovery(config.id, scans, span, provider.normalize_token)
    return _Family(provider, history, EvmHeads(config.id, rpc), provider.read_block, logs)


def _discovery_span(config: ChainConfig) -> AdaptiveSpan:
    """Discovery's own span (its scans and history's meet different densities)."""
    target = results_within(config.max_response_bytes)
    return AdaptiveSpan(config.log_range, config.log_range_max, target)


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


def _starknet(config: ChainConfig, http: httpx.AsyncClient, metrics: Metrics) -> _Family:
    rpc = chain_client(config, http, metrics, STARKNET_DEFINITE_CODES)
    urls = config.history_rpc_urls
    archive = chain_client(config, http, metrics, STARKNET_DEFINITE_CODES, urls=urls, past=True)
    try:
        provider = StarknetProvider(
            config, rpc, native_contract=config.native.contract or STRK_ADDRESS, archive=archive
        )
    except InvalidAddress as exc:
        raise ConfigError(f"[chains.{config.id}] native.contract: {exc}") from exc
    history = StarknetHistory(config.id, rpc, provider, archive=archive)
    scans = chain_client(config, http, metrics, STARKNET_DEFINITE_CODES, role="discovery")
    span = _discovery_span(config)
    logs = StarknetEventDiscovery(config.id, scans, span, provider.normalize_token)
    return _Family(provider, history, NumberHeads(history.head), provider.read_block, logs)


def _latest(provider: ChainProvider) -> BlockReader:
    """A family that cannot read state at a block (Esplora) reads the newest: each value
    carries the height it was read at."""

    async def read(keys: Sequence[BalanceKey], block: int) -> list[BalanceReading | ChainError]:
        return (await provider.read(keys, ())).balances

    return read
