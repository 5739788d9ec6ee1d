"""Configuration, read once at start-up into frozen, typed values."""

from settings.model import (
    DEFAULT_CONFIG,
    MULTICALL3_ADDRESS,
    CacheConfig,
    ChainConfig,
    ConfigError,
    LimitsConfig,
    NativeAsset,
    PricesConfig,
    Secret,
    ServerConfig,
    Settings,
    SpamConfig,
    load_settings,
    parse_settings,
)

__all__ = [
    "DEFAULT_CONFIG",
    "MULTICALL3_ADDRESS",
    "CacheConfig",
    "ChainConfig",
    "ConfigError",
    "LimitsConfig",
    "NativeAsset",
    "PricesConfig",
    "Secret",
    "ServerConfig",
    "Settings",
    "SpamConfig",
    "load_settings",
    "parse_settings",
]
