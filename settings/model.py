"""The configuration's shape: every section, every key, every default, defined once here.

Models are strict (a `"10"` is not a number, `true` is not an integer), frozen, and refuse
unknown keys, so a typo fails at start-up instead of silently using a default. `loader`
turns a TOML file plus environment overrides into a validated `Settings`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    PositiveInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.amounts import PRICE_DIGITS
from core.models import ChainFamily
from core.text import excerpt
from settings.discovery import ChainDiscovery
from settings.live import ChainLive, LiveConfig
from settings.metering import AuthConfig, RateLimitsConfig
from settings.redis import RedisMode, check_redis_url
from settings.secret import Secret
from settings.section import Lax, Section

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
DEFILLAMA_URL = "https://coins.llama.fi"
CHAIN_ID = re.compile(r"[a-z][a-z0-9-]{0,39}")
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
NETWORKS = ("mainnet", "testnet", "signet", "regtest")
_FINALITY_DEPTHS = {ChainFamily.EVM: 64, ChainFamily.STARKNET: 32, ChainFamily.BITCOIN: 6}
"""Ethereum finalizes in two epochs (64 blocks); Bitcoin's six confirmations; Starknet
blocks are accepted on L1 within minutes."""


class NativeAsset(Section):
    symbol: str
    name: str
    decimals: int = Field(ge=0, le=255)
    logo: str | None = None
    price_id: str | None = None
    """The asset's DefiLlama coin id, e.g. `coingecko:ethereum`."""
    contract: str | None = None
    """Starknet only: the fee-token contract that holds the native balance (STRK or ETH)."""


class ChainConfig(ChainDiscovery, ChainLive):
    """One `[chains.<id>]` table; the table name is the chain id used in queries (its discovery
    keys: `ChainDiscovery`; how live balances follow its head: `ChainLive`)."""

    id: str
    name: str
    family: Annotated[ChainFamily, Lax] = ChainFamily.EVM
    chain_id: int | None = None
    rpc_urls: Annotated[tuple[Secret, ...], Lax]
    archive_rpc_urls: Annotated[tuple[Secret, ...], Lax] = ()
    """Nodes that keep old state, for reads at a past block (`atBlock`, `atTime`, history);
    `rpc_urls` when empty. Log scans use `rpc_urls`: logs need no archive."""
    finality_depth: int | None = Field(default=None, ge=0, le=100_000)
    """Blocks below the head after which a block is final: what history reads at or below it
    is kept and never read again. Default by family: evm 64, starknet 32, bitcoin 6."""
    log_range: int = Field(default=10_000, ge=1, le=10_000_000)
    """Blocks per `eth_getLogs` request to start with; halved when a node refuses a range or
    a result size, doubled again after each success up to `log_range_max`."""
    log_range_max: int = Field(default=1_000_000, ge=1, le=100_000_000)
    native: NativeAsset
    token_list: Annotated[Path | None, Lax] = Field(default=None, alias="tokens")
    token_list_url: Secret | None = Field(default=None, alias="tokens_url")
    """The operator's list at an http(s) URL (`tokens = "https://…"` lands here): fetched at
    start-up, before the port is taken; the URL may hold a key, so it never prints."""
    multicall3: str | None = MULTICALL3_ADDRESS
    batch_size: int = Field(default=500, ge=2, le=5_000)
    """Sub-calls per upstream request (one of them reads the block number)."""
    timeout: float = Field(default=5.0, gt=0, le=120)
    """Seconds per upstream attempt (two attempts fit in the default request deadline)."""
    cooldown: float = Field(default=30.0, ge=0, le=3_600)
    """Seconds an endpoint that failed goes to the back of the line (or, open, is skipped)."""
    failure_threshold: int = Field(default=3, ge=1, le=100)
    """Failures in a row that open an endpoint's circuit: skipped until a probe succeeds."""
    max_connections: int = Field(default=32, ge=1, le=1_000)
    """Connections (so concurrent upstream requests) this chain may hold: a hung chain fills
    its own pool only."""
    max_response_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    """Largest upstream answer read; a bigger one is refused while it streams in."""
    price_chain: str | None = None
    """DefiLlama's chain slug for this chain's tokens (default: the chain id)."""
    network: Literal["mainnet", "testnet", "signet", "regtest"] = "mainnet"
    """Bitcoin only: decides address prefixes."""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_the_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and "name" not in data and isinstance(data.get("id"), str):
            return {**data, "name": data["id"].title()}
        return data

    @model_validator(mode="before")
    @classmethod
    def _a_list_url_is_fetched(cls, data: Any) -> Any:
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if isinstance(tokens, str) and tokens.startswith(("https://", "http://")):
            if "tokens_url" in data:
                raise ValueError("tokens and tokens_url both name a list: keep one")
            return {**{k: v for k, v in data.items() if k != "tokens"}, "tokens_url": tokens}
        return data

    @field_validator("token_list_url")
    @classmethod
    def _list_url(cls, url: Secret | None) -> Secret | None:
        if url is not None and url.scheme not in {"http", "https"}:
            raise ValueError("must be an http(s) URL")
        return url

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not CHAIN_ID.fullmatch(value):
            raise ValueError("chain ids are lower-case slugs like 'ethereum' or 'base-sepolia'")
        return value

    @field_validator("rpc_urls")
    @classmethod
    def _http_urls(cls, urls: tuple[Secret, ...]) -> tuple[Secret, ...]:
        if not urls or any(u.scheme not in {"http", "https"} for u in urls):
            raise ValueError("must be a non-empty list of http(s) URLs")
        return urls

    @field_validator("archive_rpc_urls")
    @classmethod
    def _archive_urls(cls, urls: tuple[Secret, ...]) -> tuple[Secret, ...]:
        if any(u.scheme not in {"http", "https"} for u in urls):
            raise ValueError("must be a list of http(s) URLs")
        return urls

    @property
    def history_rpc_urls(self) -> tuple[Secret, ...]:
        """Where reads at a past block go: the archive nodes, else the usual ones."""
        return self.archive_rpc_urls or self.rpc_urls

    @property
    def final_depth(self) -> int:
        """`finality_depth`, or the family's default."""
        if self.finality_depth is not None:
            return self.finality_depth
        return _FINALITY_DEPTHS[self.family]

    @field_validator("token_list", mode="before")
    @classmethod
    def _no_list(cls, value: Any) -> Any:
        return None if value == "" else value  # `tokens = ""`: no token list

    @field_validator("token_list")
    @classmethod
    def _relative_to_the_config(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base_dir")
        if path is None:
            return None
        return (Path(base) / path).resolve() if base else path.resolve()

    @field_validator("multicall3")
    @classmethod
    def _hex_address(cls, address: str | None) -> str | None:
        """The shape only: the chain registry checks the EIP-55 checksum (it owns EVM
        addresses) and canonicalises the address."""
        if not address:
            return None
        if not _HEX_ADDRESS.fullmatch(address):
            raise ValueError(
                f"{excerpt(address)} is not an EVM address (0x followed by 40 hex digits)"
            )
        return address

    @model_validator(mode="after")
    def _family_rules(self) -> ChainConfig:
        if self.family is not ChainFamily.EVM and self.multicall3 is not None:
            object.__setattr__(self, "multicall3", None)  # only EVM chains have Multicall3
        if self.family is not ChainFamily.BITCOIN and self.network != "mainnet":
            raise ValueError("network only applies to bitcoin chains")
        if self.family is not ChainFamily.EVM and self.ws_urls:
            raise ValueError("ws_urls: newHeads subscriptions are for EVM chains only")
        if self.log_range > self.log_range_max:
            raise ValueError("log_range must be at most log_range_max")
        if self.token_list is not None and self.token_list_url is not None:
            raise ValueError("tokens and tokens_url both name a list: keep one")
        problem = self.discovery_problem(self.family.value)
        if problem is not None:
            raise ValueError(problem)
        return self


class CacheConfig(Section):
    redis_mode: RedisMode = "single"
    """single | cluster | sentinel: what `redis_url` names (`REDIS_MODE` wins over the file)."""
    redis_url: Secret | None = None
    """`REDIS_URL` in the environment wins over the file; its form per mode: settings/redis.py."""
    redis_sentinel_master: str | None = Field(default=None, validate_default=True)
    """The master set the sentinels watch (`sentinel monitor <name> ...`); sentinel mode only."""
    default_max_age: int = Field(default=300, ge=0)
    """Seconds, when a query gives no `maxAge`."""
    retention: int = Field(default=86_400, ge=1)
    """How long read values are kept at all."""
    metadata_ttl: int = Field(default=7 * 86_400, ge=1)
    memory_max_entries: int = Field(default=200_000, ge=1)
    """Balances and token metadata kept decoded in each process (in front of Redis, if any)."""
    redis_timeout: float = Field(default=0.25, gt=0, le=10)
    """Seconds of the event loop's attention a Redis command may take before it fails (a
    loop busy elsewhere does not count); three failures in a row open the breaker."""
    redis_retry_after: float = Field(default=5.0, gt=0, le=300)
    """Seconds Redis is left alone after a failure, before one call probes it."""
    shared_reads: bool = True
    """With Redis: processes that miss the same lookups at once make one upstream read (the
    first takes a short lease, the others wait for its values). False: each reads itself."""
    shared_read_lease: float = Field(default=3.0, gt=0, le=60)
    """Seconds a shared read's lease lasts at most: the longest others wait on a holder that
    died (a wait also ends after half the time left before the request's deadline)."""
    response_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    """Whole answers kept per process for identical requests (0: none), counting what each
    really holds (its key, its body, ~200 bytes of bookkeeping); one answer may take at most
    an eighth."""
    response_cache_entries: int = Field(default=50_000, ge=0)
    """... and at most this many of them (0: none)."""
    response_cache_shared_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    """With Redis: the most each process may have alive there at once of the answers it
    shared (each for at most 5 minutes); beyond it, answers stay in their process only."""

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: Secret | None, info: ValidationInfo) -> Secret | None:
        if url is None or not url.value:
            return None
        check_redis_url(url, info.data.get("redis_mode", "single"))
        return url

    @field_validator("redis_sentinel_master")
    @classmethod
    def _sentinel_master(cls, name: str | None, info: ValidationInfo) -> str | None:
        sentinel = info.data.get("redis_mode") == "sentinel"
        if name is not None and not sentinel:
            raise ValueError("names a sentinel master set: set redis_mode = 'sentinel' too")
        if sentinel and info.data.get("redis_url") and not (name or "").strip():
            raise ValueError("is required in redis_mode 'sentinel' (the sentinels' master set)")
        return name.strip() if name else None


class LimitsConfig(Section):
    max_pairs: PositiveInt = 100
    """`Query.balances(pairs:)` per call."""
    max_tokens: PositiveInt = 1_000
    """`Account.balances(tokens:)` per call."""
    max_lookups: PositiveInt = 5_000
    """Balance lookups per request, across every field and alias."""
    max_accounts: PositiveInt = 100
    """`Query.accounts(addresses:)` and `Account` entity references per request."""
    max_depth: PositiveInt = 10
    """Field nesting below the root, fragments expanded."""
    max_aliases: PositiveInt = 50
    """Aliases, fragments expanded (a fragment spread twice counts twice)."""
    max_fields: PositiveInt = 250
    """Field selections as written; graphql-core's validation is quadratic in them."""
    max_document_tokens: PositiveInt = 5_000
    """Lexical tokens per document; parsing costs about 8 µs a token."""
    max_string_length: PositiveInt = 512
    """Characters in any string argument or variable (an address is at most ~100)."""
    max_input_items: PositiveInt = 5_000
    """List items across all variables of a request, refused before coercion."""
    max_history_points: PositiveInt = 400
    """`portfolioHistory` points per call (a year of days, two weeks of hours)."""
    max_history_page: PositiveInt = 1_000
    """`balanceHistory(first:)` events per page."""
    max_balances_page: PositiveInt = 500
    """`Account.balances(first:)` and `balancesPage(first:)` rows per page."""
    max_history_events: PositiveInt = 100_000
    """Events one (account, token) timeline may hold; a longer one needs `fromBlock`."""
    max_discovered_tokens: PositiveInt = 2_000
    """Tokens discovery keeps per (account, chain); past it, those most recently active."""
    discovery_lookups: int = Field(default=10, ge=0, le=10_000)
    """What discovering one (account, chain) costs, in lookups, besides the lookups of the
    tokens it is known to have found."""
    max_scans: PositiveInt = 4
    """History scans one process runs at once; beyond, HISTORY_BUSY (retryable)."""
    max_scan_blocks: PositiveInt = 50_000_000
    """Blocks the scans running in one process may cover between them (one alone may
    cover more)."""
    max_scan_events: PositiveInt = 200_000
    """Events the scans running in one process may hold between them (~400 bytes each)."""
    max_subscriptions_per_caller: PositiveInt = 20
    """Live subscriptions (`balanceChanges`) one key, or one client address, may hold open
    at once in one process."""
    max_watched_lookups: PositiveInt = 5_000
    """Lookups (priced as at subscribe time) one key, or one client address, may watch at
    once across its open subscriptions in one process."""


PriceSourceName = Literal["static", "defillama"]


class PricesConfig(Section):
    sources: Annotated[tuple[PriceSourceName, ...], Lax] = ()
    """Tried in order. Empty: no USD values, no dust filter."""
    static: dict[tuple[str, str], Decimal] = Field(default_factory=dict)
    """(chain id, token address or `native`) -> USD price."""
    cache_ttl: int = Field(default=60, ge=1)
    """Seconds a quote (or "no source prices this") is reused."""
    defillama_url: str = DEFILLAMA_URL
    timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds per price request."""

    @field_validator("static", mode="before")
    @classmethod
    def _static_prices(cls, table: Any) -> dict[tuple[str, str], Decimal]:
        if not isinstance(table, dict):
            raise ValueError("must be a table")
        prices: dict[tuple[str, str], Decimal] = {}
        for name, value in table.items():
            chain, _, token = str(name).partition(":")
            price = _decimal(value)
            if not chain or not token or price is None or not _plausible(price):
                raise ValueError(
                    f'{name!r} needs the form "<chain>:<token or native>" = '
                    '"<USD price as a decimal string>"'
                )
            prices[(chain, token)] = price
        return prices

    @model_validator(mode="after")
    def _static_needs_prices(self) -> PricesConfig:
        if "static" in self.sources and not self.static:
            raise ValueError("the static source is listed but [prices.static] is empty")
        return self


class SpamConfig(Section):
    deny: Annotated[frozenset[tuple[str, str]], Lax] = frozenset()
    """(chain id, token address) pairs the operator flags as spam."""
    heuristic: bool = True

    @field_validator("deny", mode="before")
    @classmethod
    def _pairs(cls, entries: Any) -> frozenset[tuple[str, str]]:
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise ValueError('must be a list of "<chain>:<token address>" strings')
        pairs = [e.partition(":") for e in entries]
        if any(not chain or not token for chain, _, token in pairs):
            raise ValueError('entries look like "<chain>:<token address>"')
        return frozenset((chain, token) for chain, _, token in pairs)


class ServerConfig(Section):
    cors_origins: Annotated[tuple[str, ...], Lax] = ("*",)
    """Browser origins allowed to call the API (balances are public chain data)."""
    max_cache_age: int = Field(default=300, ge=0)
    """The most a GET response's `Cache-Control: max-age` promises, whatever `maxAge` asks."""
    request_deadline: float = Field(default=12.0, gt=0, le=300)
    """Seconds a request waits for upstream answers; what is not ready by then is an
    UPSTREAM_TIMEOUT error beside the rest (the reads go on, and fill the cache)."""
    read_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds a client has to send a whole request, from connecting or from its first byte."""
    max_header_bytes: int = Field(default=32_768, ge=1024, le=1_048_576)
    """Request header bytes; more is refused with 431."""
    max_connections: int = Field(default=2_048, ge=1)
    """Connections and requests in flight per worker; beyond, new ones get 503."""
    keep_alive: float = Field(default=5.0, ge=0, le=300)
    """Seconds an idle keep-alive connection stays open."""
    ready_requires_chains: bool = False
    """False: `/health/ready` is 200 while the process can serve and its key store answers,
    whatever the chains (a dead upstream must not take every replica out of a load
    balancer). True: also 503 when no chain can be read."""
    shutdown_timeout: float = Field(default=10.0, gt=0, le=600)
    """Seconds a stopping server waits for open responses (multipart subscriptions
    included) before it cancels them; WebSockets are closed at once with 1012."""
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], Lax] = ()
    """Networks of the proxies in front of the service. Only a peer in one of them is believed
    about `X-Forwarded-For`; without any, the client is the TCP peer, whatever it claims."""

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, values: Any) -> Any:
        if not isinstance(values, list | tuple):
            return values
        try:
            return tuple(ip_network(str(v), strict=False) for v in values)
        except ValueError as exc:
            raise ValueError(f"must be IP addresses or CIDR networks ({exc})") from None


class DocumentsConfig(Section):
    """Parsed documents and Automatic Persisted Queries."""

    cache_bytes: int = Field(default=8 * 1_048_576, ge=0)
    """Parsed documents kept per process, counting what each really holds (its text, its
    tree with locations, or its errors): ~2 KB for `{ __typename }`, ~9 KB for a typical
    query."""
    cache_entries: int = Field(default=10_000, ge=0)
    """... and at most this many of them."""
    persisted_max_bytes: int = Field(default=65_536, ge=1)
    """A persisted query longer than this is run but never stored."""
    persisted_max_entries: int = Field(default=10_000, ge=1)
    """Persisted queries kept in Redis; the oldest go first."""
    persisted_ttl: int = Field(default=7 * 86_400, ge=1)


class TokensConfig(Section):
    """`[tokens]`: the token lists the service ships, and how logos are served."""

    shipped_lists: bool = True
    """Merge the shipped npm token lists into each EVM chain's list (by `chain_id`)."""
    ipfs_gateway: str = "https://ipfs.io/ipfs/"
    """Where an `ipfs://` logo is served from over HTTPS: `ipfs://<cid>/x` becomes
    `<gateway><cid>/x`."""

    @field_validator("ipfs_gateway")
    @classmethod
    def _https_base(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return url if url.endswith("/") else url + "/"


class Settings(Section):
    """The whole configuration, validated once at start-up."""

    chains: dict[str, ChainConfig] = Field(min_length=1)
    cache: CacheConfig = CacheConfig()
    limits: LimitsConfig = LimitsConfig()
    prices: PricesConfig = PricesConfig()
    spam: SpamConfig = SpamConfig()
    server: ServerConfig = ServerConfig()
    documents: DocumentsConfig = DocumentsConfig()
    tokens: TokensConfig = TokensConfig()
    auth: AuthConfig = AuthConfig()
    rate_limits: RateLimitsConfig = RateLimitsConfig()
    live: LiveConfig = LiveConfig()
    source: Annotated[Path | None, Lax] = None
    """The file this was read from (`None` when built in code)."""

    @field_validator("chains", mode="before")
    @classmethod
    def _ids_from_table_names(cls, tables: Any) -> Any:
        if not isinstance(tables, dict):
            return tables
        return {
            chain_id: {**table, "id": chain_id} if isinstance(table, dict) else table
            for chain_id, table in tables.items()
        }


def _plausible(price: Decimal) -> bool:
    """A finite, non-negative price with at most `PRICE_DIGITS` significant digits."""
    return price.is_finite() and price >= 0 and len(price.as_tuple().digits) <= PRICE_DIGITS


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
