"""Read the TOML file, apply environment overrides, validate, and say precisely what is wrong.

Environment variables override secrets so keys need not live in files:

- `REDIS_URL` switches the cache to Redis (it wins over `[cache] redis_url`), and `REDIS_MODE`
  says what it names (single, cluster or sentinel; it wins over `[cache] redis_mode`).
- `BALANCE_GRAPH_RPC_URLS_<CHAIN>` (comma separated) replaces a chain's `rpc_urls`, and
  `BALANCE_GRAPH_ARCHIVE_RPC_URLS_<CHAIN>` its `archive_rpc_urls` (`BALANCE_GRAPH_WS_URLS_<CHAIN>`
  its `ws_urls`); `<CHAIN>` is the chain id
  upper-cased with non-alphanumerics as `_`. `BALANCE_GRAPH_ETHERSCAN_KEY_<CHAIN>` and
  `BALANCE_GRAPH_ALCHEMY_URL_<CHAIN>` set the discovery indexers' secrets the same way.
- `BALANCE_GRAPH_DATA_DIR` replaces `[auth] data_dir`, and `BALANCE_GRAPH_TRUSTED_PROXIES`
  (comma separated) `[server] trusted_proxies`: facts of the deployment, not of the config.

Error messages name the file, the table and the key (or, for a value that came from the
environment, the variable), and never echo a value (it may be a URL with a key in it).
`unknown_variables` names `BALANCE_GRAPH_*` variables that set nothing: a misspelt override
would otherwise be ignored without a word.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from settings.metering import DATA_DIR_ENV
from settings.model import Settings
from settings.redis import REDIS_MODE_ENV

DEFAULT_CONFIG = Path(__file__).resolve().parent / "default.toml"
"""The shipped configuration: public mainnet endpoints, in-process cache."""

ENV_PREFIX = "BALANCE_GRAPH_"
CONFIG_ENV = "BALANCE_GRAPH_CONFIG"
"""The config file, when `--config` is not given."""
RPC_URLS_ENV = "BALANCE_GRAPH_RPC_URLS_"
ARCHIVE_RPC_URLS_ENV = "BALANCE_GRAPH_ARCHIVE_RPC_URLS_"
ETHERSCAN_KEY_ENV = "BALANCE_GRAPH_ETHERSCAN_KEY_"
ALCHEMY_URL_ENV = "BALANCE_GRAPH_ALCHEMY_URL_"
WS_URLS_ENV = "BALANCE_GRAPH_WS_URLS_"
_CHAIN_OVERRIDES = (
    ("rpc_urls", RPC_URLS_ENV, True),
    ("archive_rpc_urls", ARCHIVE_RPC_URLS_ENV, True),
    ("ws_urls", WS_URLS_ENV, True),
    ("etherscan_key", ETHERSCAN_KEY_ENV, False),
    ("alchemy_url", ALCHEMY_URL_ENV, False),
)
"""Per-chain secrets the environment sets: (key, variable prefix, comma-separated list)."""
TRUSTED_PROXIES_ENV = "BALANCE_GRAPH_TRUSTED_PROXIES"
REDIS_URL_ENV = "REDIS_URL"

Location = tuple[str, ...]
"""Where a key lives in the document: ("chains", "ethereum", "rpc_urls")."""


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why.

    `in_file` is what is wrong in the file (the loader prefixes the file's path), and
    `environment` what is wrong with values taken from environment variables (each line
    names its variable: the file is not to blame).
    """

    def __init__(self, in_file: str, environment: Sequence[str] = ()) -> None:
        super().__init__("\n".join(filter(None, [in_file, *environment])))
        self.in_file = in_file
        self.environment = tuple(environment)


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
        in_file = f"{source}: {exc.in_file}" if exc.in_file else ""
        raise ConfigError(in_file, exc.environment) from exc.__cause__


def parse_settings(
    raw: Mapping[str, Any],
    *,
    base_dir: Path,
    environ: Mapping[str, str],
    source: Path | None = None,
) -> Settings:
    """Validate an already-parsed document (tests and generated configs use this)."""
    overrides: dict[Location, str] = {}
    document = _with_overrides(dict(raw), environ, overrides)
    if source is not None:
        document["source"] = source
    try:
        return Settings.model_validate(document, context={"base_dir": base_dir})
    except ValidationError as exc:
        in_file: list[str] = []
        from_environment: list[str] = []
        for error in exc.errors():
            variable = overrides.get(_key_location(error))
            if variable is None:
                in_file.append(_describe(error))
            else:
                from_environment.append(f"{variable} (environment): {_describe(error)}")
        raise ConfigError("\n".join(in_file), from_environment) from None


def unknown_variables(
    environ: Mapping[str, str], settings: Settings, known: Iterable[str] = ()
) -> list[str]:
    """One warning per `BALANCE_GRAPH_*` variable in `environ` that sets nothing, naming the
    nearest valid name. `known` adds the names other parts of the program read."""
    fixed = {CONFIG_ENV, DATA_DIR_ENV, TRUSTED_PROXIES_ENV, *known}
    chains = {rpc_urls_env(c, prefix=""): c for c in settings.chains}
    warnings = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in fixed):
        prefixes = sorted((p for _, p, _ in _CHAIN_OVERRIDES), key=len, reverse=True)
        prefix = next((p for p in prefixes if name.startswith(p)), "")
        if prefix and name.removeprefix(prefix) in chains:
            continue
        if prefix:
            nearest = _nearest(name.removeprefix(prefix), chains)
            hint = (
                f"did you mean {prefix}{nearest}?"
                if nearest
                else f"the config has no such chain ({', '.join(sorted(settings.chains))})"
            )
        else:
            nearest = _nearest(name, fixed)
            hint = f"did you mean {nearest}?" if nearest else "no setting has a name like it"
        warnings.append(f"{name} is not a setting and is ignored: {hint}")
    return warnings


def _nearest(name: str, names: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.75)
    return found[0] if found else None


def rpc_urls_env(chain_id: str, prefix: str = RPC_URLS_ENV) -> str:
    """The environment variable that replaces `chain_id`'s `rpc_urls` (or, with
    `ARCHIVE_RPC_URLS_ENV`, its `archive_rpc_urls`)."""
    return prefix + re.sub(r"[^A-Z0-9]", "_", chain_id.upper())


def _with_overrides(
    raw: dict[str, Any], environ: Mapping[str, str], overrides: dict[Location, str]
) -> dict[str, Any]:
    """`raw` with the environment's values; `overrides` learns which key each one set."""
    for variable, table, key in _TABLE_OVERRIDES:
        value = environ.get(variable)
        section = raw.get(table, {})
        if value and isinstance(section, dict):
            raw[table] = {**section, key: _split(value) if key == "trusted_proxies" else value}
            overrides[(table, key)] = variable
    chains = raw.get("chains")
    if isinstance(chains, dict):
        raw["chains"] = {
            chain_id: _chain_overrides(chain_id, table, environ, overrides)
            for chain_id, table in chains.items()
        }
    return raw


def _chain_overrides(
    chain_id: str, table: Any, environ: Mapping[str, str], overrides: dict[Location, str]
) -> Any:
    if not isinstance(table, dict):
        return table
    for key, prefix, listed in _CHAIN_OVERRIDES:
        variable = rpc_urls_env(chain_id, prefix)
        value = environ.get(variable)
        if value:
            table = {**table, key: _split(value) if listed else value}
            overrides[("chains", chain_id, key)] = variable
    return table


def _key_location(error: ErrorDetails) -> Location:
    """The key an error is about, without the index of an array item."""
    loc = list(error["loc"])
    while loc and isinstance(loc[-1], int):
        loc.pop()
    return tuple(map(str, loc))


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


_TABLE_OVERRIDES = (
    (REDIS_URL_ENV, "cache", "redis_url"),
    (REDIS_MODE_ENV, "cache", "redis_mode"),
    (DATA_DIR_ENV, "auth", "data_dir"),
    (TRUSTED_PROXIES_ENV, "server", "trusted_proxies"),
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
