"""Configuration: one TOML file plus environment overrides, read once into frozen values.

model.py    every section, key and default (pydantic, strict, unknown keys refused)
metering.py `[auth]` and `[rate_limits]`: who may call, and how often
loader.py   TOML + environment -> Settings; messages name the file, table and key
secret.py   Secret: URLs that may hold keys never print themselves
default.toml, tokenlists/   the shipped configuration (public mainnet endpoints)
"""

from settings.live import ChainLive, LiveConfig
from settings.loader import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    ConfigError,
    load_settings,
    parse_settings,
    rpc_urls_env,
    unknown_variables,
)
from settings.metering import (
    RATE_CLASSES,
    AuthConfig,
    Rate,
    RateClass,
    RateLimitsConfig,
)
from settings.model import (
    DEFILLAMA_URL,
    MULTICALL3_ADDRESS,
    CacheConfig,
    ChainConfig,
    DocumentsConfig,
    LimitsConfig,
    NativeAsset,
    PricesConfig,
    ServerConfig,
    Settings,
    SpamConfig,
)
from settings.secret import Secret

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "DEFILLAMA_URL",
    "MULTICALL3_ADDRESS",
    "RATE_CLASSES",
    "AuthConfig",
    "CacheConfig",
    "ChainConfig",
    "ChainLive",
    "ConfigError",
    "DocumentsConfig",
    "LimitsConfig",
    "LiveConfig",
    "NativeAsset",
    "PricesConfig",
    "Rate",
    "RateClass",
    "RateLimitsConfig",
    "Secret",
    "ServerConfig",
    "Settings",
    "SpamConfig",
    "load_settings",
    "parse_settings",
    "rpc_urls_env",
    "unknown_variables",
]
