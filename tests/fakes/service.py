"""The service in memory: chains whose provider is a dict, for unit tests without a node.

`FakeProvider` implements `chains.base.ChainProvider` (normalizing input exactly as the real
family does) over fixed balances and token metadata, records every `read`, and can fail a
whole round or single tokens the way real providers do (errors as values, in place).
`make_chain` wires it into a real `ChainReader` on an in-memory cache, and `make_scope` builds
the `RequestScope` one GraphQL request gives the resolvers, with real loaders and prices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from chains.base import Reading
from chains.bitcoin.addresses import normalize_bitcoin_address
from chains.cache.base import Cache
from chains.cache.memory import MemoryCache
from chains.cache.store import ReadingStore
from chains.evm.addresses import checksum_evm_address, normalize_evm_token
from chains.history.base import HistorySource
from chains.history.timelines import Timelines
from chains.reader import ChainReader
from chains.registry import Chain, ChainRegistry
from chains.starknet.addresses import normalize_address
from chains.tokens.spam import SpamPolicy
from chains.tokens.tokenlist import native_token
from core.errors import ChainError, TokenCallFailed, UnsupportedToken
from core.metrics import Metrics
from core.models import (
    NATIVE_ALIASES,
    NATIVE_TOKEN,
    BalanceKey,
    BalanceReading,
    ChainFamily,
    TokenMeta,
    TokenRef,
    TokenStandard,
)
from loaders.context import build_loaders
from prices.base import PriceSource
from prices.fallback import FallbackSources
from prices.reader import PriceReader
from resolvers.scope import CacheHints, RequestScope
from settings import CacheConfig, ChainConfig, LimitsConfig, NativeAsset, Secret, SpamConfig
from tests.fakes.history import ScriptedHistory

ALICE = checksum_evm_address("0x" + "a1" * 20)
BOB = checksum_evm_address("0x" + "b0" * 20)
USDC = TokenRef(checksum_evm_address("0x" + "c0" * 20))
DAI = TokenRef(checksum_evm_address("0x" + "da" * 20))
BLOCK = 100


class Clock:
    """A settable wall clock shared by a provider and its reader."""

    def __init__(self, now: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeProvider:
    """A `ChainProvider` over `balances[(account, token)]` (0 when absent) and `tokens`.

    `failures[token]` is that token's error for every balance of it; `down` fails every key
    of a round (node trouble); `crash` raises from `read`, as a provider bug would.
    """

    def __init__(
        self,
        chain: str,
        *,
        balances: Mapping[tuple[str, TokenRef], int] | None = None,
        tokens: Mapping[TokenRef, TokenMeta] | None = None,
        failures: Mapping[TokenRef, ChainError] | None = None,
        family: ChainFamily = ChainFamily.EVM,
        clock: Clock | None = None,
    ) -> None:
        self.chain = chain
        self.family = family
        self.balances = dict(balances or {})
        self.tokens = dict(tokens or {})
        self.failures = dict(failures or {})
        self.clock = clock or Clock()
        self.down: ChainError | None = None
        self.crash: Exception | None = None
        self.reads: list[tuple[list[BalanceKey], list[TokenRef]]] = []

    @property
    def rounds(self) -> int:
        return len(self.reads)

    def normalize_account(self, text: str) -> str:
        if self.family is ChainFamily.STARKNET:
            return normalize_address(text)
        if self.family is ChainFamily.BITCOIN:
            return normalize_bitcoin_address(text, "mainnet")
        return checksum_evm_address(text)

    def endpoint_states(self) -> dict[str, str]:
        return {"0:https://node.example/…": "open" if self.down is not None else "closed"}

    def normalize_token(self, text: str) -> TokenRef:
        if self.family is ChainFamily.EVM:
            return normalize_evm_token(text)
        if text.strip().lower() in NATIVE_ALIASES:
            return NATIVE_TOKEN
        if self.family is ChainFamily.BITCOIN:
            raise UnsupportedToken("Bitcoin has no tokens", token=text)
        return TokenRef(normalize_address(text))

    async def read(self, balances: Sequence[BalanceKey], tokens: Sequence[TokenRef]) -> Reading:
        self.reads.append((list(balances), list(tokens)))
        if self.crash is not None:
            raise self.crash
        if self.down is not None:
            down = self.down
            return Reading(
                [down.about(**k.labels) for k in balances],
                [down.about(chain=self.chain, token=t) for t in tokens],
            )
        now = self.clock()
        readings: list[BalanceReading | ChainError] = []
        for key in balances:
            failure = self.failures.get(key.token)
            if failure is not None:
                readings.append(failure.about(**key.labels))
            else:
                raw = self.balances.get((key.account, key.token), 0)
                readings.append(BalanceReading(key, raw, BLOCK, now))
        metas: list[TokenMeta | ChainError] = [
            self.tokens.get(t)
            or TokenCallFailed(f"{t} has no contract code", chain=self.chain, token=str(t))
            for t in tokens
        ]
        return Reading(readings, metas)


def erc20(chain: str, token: TokenRef, symbol: str, decimals: int | None = 18) -> TokenMeta:
    return TokenMeta(chain, token, TokenStandard.ERC20, symbol, symbol, decimals)


def chain_config(
    chain: str,
    *,
    family: ChainFamily = ChainFamily.EVM,
    price_id: str | None = None,
    price_chain: str | None = None,
) -> ChainConfig:
    return ChainConfig(
        id=chain,
        name=chain.title(),
        family=family,
        chain_id=1 if family is ChainFamily.EVM else None,
        rpc_urls=(Secret(f"https://{chain}.node.example/rpc"),),
        native=NativeAsset(symbol="ETH", name="Ether", decimals=18, price_id=price_id),
        price_chain=price_chain,
    )


def make_chain(
    provider: FakeProvider,
    *,
    listed: Sequence[TokenMeta] = (),
    store: ReadingStore | None = None,
    price_id: str | None = None,
    history: HistorySource | None = None,
) -> Chain:
    """The chain as `build_registry` makes it: native first, then the listed tokens."""
    config = chain_config(provider.chain, family=provider.family, price_id=price_id)
    native = native_token(config)
    table = {native.token: native, **{m.token: m for m in listed}}
    reader = ChainReader(
        config.id, provider, table, store or new_store(), Metrics(), provider.clock
    )
    source = history or ScriptedHistory(config.id)
    timelines = Timelines(source, finality_depth=config.final_depth, max_events=10_000)
    return Chain(config, provider, reader, native, table, timelines, own=tuple(table))


def new_store(shared: Cache | None = None) -> ReadingStore:
    """A reading store as the app builds it, on `shared` (none: this process only)."""
    config = CacheConfig()
    return ReadingStore(
        max_entries=10_000,
        retention=config.retention,
        metadata_ttl=config.metadata_ttl,
        shared=shared,
    )


def price_reader(*sources: PriceSource, ttl: int = 60) -> PriceReader:
    return PriceReader(FallbackSources(sources), MemoryCache(10_000), ttl=ttl)


def make_scope(
    *chains: Chain,
    prices: Sequence[PriceSource] = (),
    limits: LimitsConfig | None = None,
    spam: SpamConfig | None = None,
    default_max_age: int = 300,
    price_ttl: int = 60,
) -> RequestScope:
    """One request's scope over `chains`, priced by `prices` (none: no USD values)."""
    registry = ChainRegistry({c.id: c for c in chains})
    reader = price_reader(*prices, ttl=price_ttl)
    return RequestScope(
        registry=registry,
        loaders=build_loaders(registry, reader),
        limits=limits or LimitsConfig(),
        default_max_age=default_max_age,
        spam=SpamPolicy.configured(spam or SpamConfig(), registry.normalize_token),
        hints=CacheHints(default_max_age, price_ttl),
    )
