"""Configuration: read once at start-up into frozen, typed values; fail loudly and precisely.

The TOML shape (chain tables, `native`, `tokens`, `rpc_urls`) is a public contract documented
in the README. Environment variables override secrets so keys need not live in files:

- `REDIS_URL` switches the cache to Redis.
- `BALANCE_GRAPH_RPC_URLS_<CHAIN>` (comma separated) replaces a chain's `rpc_urls`;
  `<CHAIN>` is the chain id upper-cased with non-alphanumerics as `_`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chains.errors import InvalidAddress
from chains.evm.addresses import checksum_evm_address
from chains.models import ChainFamily

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.toml"
_CHAIN_ID = re.compile(r"[a-z][a-z0-9-]{0,39}")
_NETWORKS = ("mainnet", "testnet", "signet", "regtest")
_PRICE_SOURCES = ("static", "defillama")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Secret:
    """A string that may hold credentials (RPC URLs with keys, Redis passwords).

    It never prints itself: `repr`, `str` and f-strings show only a redacted label.
    """

    value: str = field(repr=False)

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"Secret({self.label!r})"

    @property
    def label(self) -> str:
        """Scheme and host only: enough to tell endpoints apart in logs, no path or query."""
        parts = urlsplit(self.value)
        host = parts.hostname or "?"
        return f"{parts.scheme}://{host}/…" if parts.scheme else "…"


@dataclass(frozen=True)
class NativeAsset:
    symbol: str
    name: str
    decimals: int
    logo: str | None = None
    price_id: str | None = None
    """The asset's DefiLlama coin id, e.g. `coingecko:ethereum`."""
    contract: str | None = None
    """Starknet only: the fee-token contract that holds the native balance (STRK or ETH)."""


@dataclass(frozen=True)
class ChainConfig:
    id: str
    name: str
    family: ChainFamily
    chain_id: int | None
    rpc_urls: tuple[Secret, ...]
    native: NativeAsset
    token_list: Path | None = None
    multicall3: str | None = MULTICALL3_ADDRESS
    batch_size: int = 500
    timeout: float = 10.0
    price_chain: str | None = None
    """DefiLlama's chain slug for this chain's tokens (default: the chain id)."""
    network: str = "mainnet"
    """Bitcoin only: mainnet, testnet, signet or regtest (decides address prefixes)."""


@dataclass(frozen=True)
class CacheConfig:
    redis_url: Secret | None = None
    default_max_age: int = 300
    retention: int = 86_400
    metadata_ttl: int = 7 * 86_400
    memory_max_entries: int = 200_000


@dataclass(frozen=True)
class LimitsConfig:
    max_pairs: int = 100
    max_tokens: int = 1_000
    max_lookups: int = 5_000
    max_depth: int = 10
    max_aliases: int = 50
    max_accounts: int = 100


@dataclass(frozen=True)
class PricesConfig:
    sources: tuple[str, ...] = ()
    """Tried in order: `static`, `defillama`. Empty: no USD values, no dust filter."""
    static: Mapping[tuple[str, str], Decimal] = field(default_factory=dict)
    """(chain id, token address or `native`) -> USD price."""
    cache_ttl: int = 60
    defillama_url: str = "https://coins.llama.fi"


@dataclass(frozen=True)
class SpamConfig:
    deny: frozenset[tuple[str, str]] = frozenset()
    """(chain id, token address) pairs the operator flags as spam."""
    heuristic: bool = True


@dataclass(frozen=True)
class ServerConfig:
    cors_origins: tuple[str, ...] = ("*",)
    """Browser origins allowed to call the API (balances are public chain data)."""


@dataclass(frozen=True)
class Settings:
    chains: Mapping[str, ChainConfig]
    cache: CacheConfig = CacheConfig()
    limits: LimitsConfig = LimitsConfig()
    prices: PricesConfig = PricesConfig()
    spam: SpamConfig = SpamConfig()
    server: ServerConfig = ServerConfig()
    source: Path | None = None


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Parse the TOML file at `path` (default: the shipped mainnet config) plus overrides."""
    env = environ if environ is not None else {}
    source = (path or DEFAULT_CONFIG).resolve()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {source}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    return parse_settings(raw, base_dir=source.parent, environ=env, source=source)


def parse_settings(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    environ: Mapping[str, str],
    source: Path | None = None,
) -> Settings:
    chains_raw = _table(raw, "chains", "")
    if not chains_raw:
        raise ConfigError("config defines no [chains.<id>] table")
    chains = {
        chain_id: _chain(chain_id, _table(chains_raw, chain_id, "chains."), base_dir, environ)
        for chain_id in chains_raw
    }
    return Settings(
        chains=chains,
        cache=_cache(_table(raw, "cache", ""), environ),
        limits=_limits(_table(raw, "limits", "")),
        prices=_prices(_table(raw, "prices", "")),
        spam=_spam(_table(raw, "spam", "")),
        server=ServerConfig(
            cors_origins=tuple(
                str(o)
                for o in _get(_table(raw, "server", ""), "cors_origins", list, "[server]", ["*"])
            )
        ),
        source=source,
    )


def _chain(
    chain_id: str, table: Mapping[str, Any], base_dir: Path, environ: Mapping[str, str]
) -> ChainConfig:
    where = f"[chains.{chain_id}]"
    if not _CHAIN_ID.fullmatch(chain_id):
        raise ConfigError(
            f"{where}: chain ids are lower-case slugs like 'ethereum' or 'base-sepolia'"
        )
    try:
        family = ChainFamily(_get(table, "family", str, where, "evm"))
    except ValueError as exc:
        families = ", ".join(f.value for f in ChainFamily)
        raise ConfigError(f"{where}: family must be one of {families}") from exc
    env_name = "BALANCE_GRAPH_RPC_URLS_" + re.sub(r"[^A-Z0-9]", "_", chain_id.upper())
    urls = (
        [u.strip() for u in environ[env_name].split(",") if u.strip()]
        if environ.get(env_name)
        else _get(table, "rpc_urls", list, where)
    )
    if not urls or not all(
        isinstance(u, str) and urlsplit(u).scheme in {"http", "https"} for u in urls
    ):
        raise ConfigError(f"{where}: rpc_urls must be a non-empty list of http(s) URLs")
    native = _table(table, "native", f"chains.{chain_id}.")
    tokens = _get(table, "tokens", str, where, "")
    multicall = _get(table, "multicall3", str, where, MULTICALL3_ADDRESS)
    batch_size = _get(table, "batch_size", int, where, 500)
    if not 2 <= batch_size <= 5_000:
        raise ConfigError(f"{where}: batch_size must be between 2 and 5000")
    try:
        multicall3 = checksum_evm_address(multicall) if multicall else None
    except InvalidAddress as exc:
        raise ConfigError(f"{where}: multicall3: {exc}") from exc
    return ChainConfig(
        id=chain_id,
        name=_get(table, "name", str, where, chain_id.title()),
        family=family,
        chain_id=_get(table, "chain_id", int, where, None),
        rpc_urls=tuple(Secret(u) for u in urls),
        native=NativeAsset(
            symbol=_get(native, "symbol", str, f"{where} native"),
            name=_get(native, "name", str, f"{where} native"),
            decimals=_get(native, "decimals", int, f"{where} native"),
            logo=_get(native, "logo", str, f"{where} native", None),
            price_id=_get(native, "price_id", str, f"{where} native", None),
            contract=_get(native, "contract", str, f"{where} native", None),
        ),
        token_list=(base_dir / tokens).resolve() if tokens else None,
        multicall3=multicall3 if family is ChainFamily.EVM else None,
        batch_size=batch_size,
        timeout=float(_get(table, "timeout", (int, float), where, 10.0)),
        price_chain=_get(table, "price_chain", str, where, None),
        network=_network(family, _get(table, "network", str, where, "mainnet"), where),
    )


def _network(family: ChainFamily, network: str, where: str) -> str:
    if network not in _NETWORKS:
        raise ConfigError(f"{where}: network must be one of {', '.join(_NETWORKS)}")
    if family is not ChainFamily.BITCOIN and network != "mainnet":
        raise ConfigError(f"{where}: network only applies to bitcoin chains")
    return network


def _prices(table: Mapping[str, Any]) -> PricesConfig:
    sources = tuple(_get(table, "sources", list, "[prices]", []))
    unknown = [s for s in sources if s not in _PRICE_SOURCES]
    if unknown:
        known = ", ".join(_PRICE_SOURCES)
        raise ConfigError(f"[prices]: unknown source(s) {unknown}; known sources: {known}")
    static: dict[tuple[str, str], Decimal] = {}
    for name, value in _table(table, "static", "prices.").items():
        chain, _, token = name.partition(":")
        try:
            price = Decimal(value) if isinstance(value, str) else None
        except ArithmeticError:
            price = None
        if not chain or not token or price is None or not price.is_finite() or price < 0:
            raise ConfigError(
                f'[prices.static]: {name!r} needs the form "<chain>:<token or native>" = '
                '"<USD price as a decimal string>"'
            )
        static[(chain, token)] = price
    if "static" in sources and not static:
        raise ConfigError("[prices]: the static source is listed but [prices.static] is empty")
    return PricesConfig(
        sources=sources,
        static=static,
        cache_ttl=_get(table, "cache_ttl", int, "[prices]", 60),
        defillama_url=_get(table, "defillama_url", str, "[prices]", "https://coins.llama.fi"),
    )


def _spam(table: Mapping[str, Any]) -> SpamConfig:
    deny = _get(table, "deny", list, "[spam]", [])
    pairs = [str(d).partition(":") for d in deny]
    if any(not chain or not token for chain, _, token in pairs):
        raise ConfigError('[spam]: deny entries look like "<chain>:<token address>"')
    return SpamConfig(
        deny=frozenset((chain, token) for chain, _, token in pairs),
        heuristic=_get(table, "heuristic", bool, "[spam]", True),
    )


def _cache(table: Mapping[str, Any], environ: Mapping[str, str]) -> CacheConfig:
    url = environ.get("REDIS_URL") or _get(table, "redis_url", str, "[cache]", "")
    if url and urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    defaults = CacheConfig()
    return CacheConfig(
        redis_url=Secret(url) if url else None,
        default_max_age=_get(table, "default_max_age", int, "[cache]", defaults.default_max_age),
        retention=_get(table, "retention", int, "[cache]", defaults.retention),
        metadata_ttl=_get(table, "metadata_ttl", int, "[cache]", defaults.metadata_ttl),
        memory_max_entries=_get(
            table, "memory_max_entries", int, "[cache]", defaults.memory_max_entries
        ),
    )


def _limits(table: Mapping[str, Any]) -> LimitsConfig:
    defaults = LimitsConfig()
    values = {
        name: _get(table, name, int, "[limits]", getattr(defaults, name))
        for name in (
            "max_pairs",
            "max_tokens",
            "max_lookups",
            "max_depth",
            "max_aliases",
            "max_accounts",
        )
    }
    if any(v < 1 for v in values.values()):
        raise ConfigError("[limits]: every limit must be a positive integer")
    return LimitsConfig(**values)


_MISSING: Any = object()


def _get(
    table: Mapping[str, Any],
    key: str,
    kind: type[Any] | tuple[type[Any], ...],
    where: str,
    default: Any = _MISSING,
) -> Any:
    if key not in table:
        if default is _MISSING:
            raise ConfigError(f"{where}: missing required key {key!r}")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ConfigError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _table(raw: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{prefix}{key}] must be a table")
    return value
