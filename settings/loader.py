"""Read the TOML file, apply environment overrides, validate, and say precisely what is wrong.

Environment variables override secrets so keys need not live in files:

- `REDIS_URL` switches the cache to Redis (it wins over `[cache] redis_url`).
- `BALANCE_GRAPH_RPC_URLS_<CHAIN>` (comma separated) replaces a chain's `rpc_urls`, and
  `BALANCE_GRAPH_ARCHIVE_RPC_URLS_<CHAIN>` its `archive_rpc_urls`; `<CHAIN>` is the chain id
  upper-cased with non-alphanumerics as `_`.
- `BALANCE_GRAPH_DATA_DIR` replaces `[auth] data_dir`, and `BALANCE_GRAPH_TRUSTED_PROXIES`
  (comma separated) `[server] trusted_proxies`: facts of the deployment, not of the config.

Error messages name the file, the table and the key, and never echo a value (it may be a
URL with a key in it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from settings.metering import DATA_DIR_ENV
from settings.model import Settings

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.toml"
"""The shipped configuration: public mainnet endpoints, in-process cache."""

RPC_URLS_ENV = "BALANCE_GRAPH_RPC_URLS_"
ARCHIVE_RPC_URLS_ENV = "BALANCE_GRAPH_ARCHIVE_RPC_URLS_"


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Parse the TOML file at `path` (default: the shipped config) plus `environ` overrides.

    `environ` is explicit: the process environment is only used when the caller passes it.
    """
    source = (path or DEFAULT_CONFIG).resolve()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config {source}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc
    try:
        return parse_settings(raw, base_dir=source.parent, environ=environ or {}, source=source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc.__cause__


def parse_settings(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    environ: Mapping[str, str],
    source: Path | None = None,
) -> Settings:
    """Validate an already-parsed document (tests and generated configs use this)."""
    document = _with_overrides(dict(raw), environ)
    if source is not None:
        document["source"] = source
    try:
        return Settings.model_validate(document, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(e) for e in exc.errors())) from None


def rpc_urls_env(chain_id: str, prefix: str = RPC_URLS_ENV) -> str:
    """The environment variable that replaces `chain_id`'s `rpc_urls` (or, with
    `ARCHIVE_RPC_URLS_ENV`, its `archive_rpc_urls`)."""
    return prefix + re.sub(r"[^A-Z0-9]", "_", chain_id.upper())


def _with_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    if environ.get("REDIS_URL"):
        cache = raw.get("cache", {})
        raw["cache"] = (
            {**cache, "redis_url": environ["REDIS_URL"]} if isinstance(cache, dict) else cache
        )
    for variable, table, key in _TABLE_OVERRIDES:
        value = environ.get(variable)
        section = raw.get(table, {})
        if value and isinstance(section, dict):
            raw[table] = {**section, key: _split(value) if key == "trusted_proxies" else value}
    chains = raw.get("chains")
    if isinstance(chains, dict):
        raw["chains"] = {
            chain_id: _chain_overrides(chain_id, table, environ)
            for chain_id, table in chains.items()
        }
    return raw


def _chain_overrides(chain_id: str, table: Any, environ: Mapping[str, str]) -> Any:
    if not isinstance(table, dict):
        return table
    for key, prefix in (("rpc_urls", RPC_URLS_ENV), ("archive_rpc_urls", ARCHIVE_RPC_URLS_ENV)):
        urls = environ.get(rpc_urls_env(chain_id, prefix))
        if urls:
            table = {**table, key: _split(urls)}
    return table


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


_TABLE_OVERRIDES = (
    (DATA_DIR_ENV, "auth", "data_dir"),
    ("BALANCE_GRAPH_TRUSTED_PROXIES", "server", "trusted_proxies"),
)
"""Deployment facts that belong to the environment: (variable, table, key)."""


_TYPE_NAMES: dict[type[Any], str] = {dict: "table", list: "array"}


_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "greater than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
}


def _describe(error: ErrorDetails) -> str:
    """One validation error as `[table]: what is wrong with which key`."""
    loc = list(error["loc"])
    kind, message = error["type"], error["msg"].removeprefix("Value error, ")
    if loc == ["chains"] and kind in {"too_short", "missing"}:
        return "config defines no [chains.<id>] table"
    if loc[-1:] == ["id"] and loc[:1] == ["chains"]:
        return f"[chains.{loc[1]}]: {message}"
    index = ""
    while loc and isinstance(loc[-1], int):  # an item of an array: rpc_urls[0]
        index = f"[{loc.pop()}]{index}"
    key = f"{loc.pop()}{index}" if loc else index
    table = ".".join(map(str, loc))
    where = f"[{table}]" if table else "the config"
    if kind == "missing":
        return f"{where}: missing required key {key!r}"
    if kind == "extra_forbidden":
        return f"{where}: unknown key {key!r}"
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"[{'.'.join(filter(None, [table, key]))}] must be a table"
    if kind.endswith("_type"):
        found = type(error["input"])
        return f"{where}: {key!r} has the wrong type ({_TYPE_NAMES.get(found, found.__name__)})"
    ctx = error.get("ctx", {})
    if kind in {"enum", "literal_error"}:
        return f"{where}: {key} must be one of {ctx.get('expected', '?')}"
    if kind in _BOUNDS:
        name, phrase = _BOUNDS[kind]
        return f"{where}: {key} must be {phrase} {ctx.get(name, '?')}"
    if kind == "value_error" and isinstance(error["input"], dict):  # about the table itself
        return f"[{'.'.join(filter(None, [table, key]))}]: {message}"
    return f"{where}: {key} {message[:1].lower()}{message[1:]}"
