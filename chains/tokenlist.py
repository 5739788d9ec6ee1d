"""Uniswap token-list JSON (https://tokenlists.org) -> the token metadata of one chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chains.addresses import checksum_evm_address
from chains.config import ChainConfig, ConfigError
from chains.errors import InvalidAddress
from chains.models import NATIVE, TokenMeta, TokenStandard


def native_token(chain: ChainConfig) -> TokenMeta:
    """The chain's native asset, described by its config."""
    return TokenMeta(
        chain=chain.id,
        address=NATIVE,
        standard=TokenStandard.NATIVE,
        symbol=chain.native.symbol,
        name=chain.native.name,
        decimals=chain.native.decimals,
        logo=chain.native.logo,
    )


def load_token_list(chain: ChainConfig) -> dict[str, TokenMeta]:
    """The chain's listed tokens by checksummed address (empty when it has no list).

    Entries for other `chainId`s are skipped, so one list can serve several chains.
    A malformed entry stops start-up with its index: a wrong `decimals` in a list would
    otherwise be served as a wrong amount.
    """
    if chain.token_list is None:
        return {}
    document = _read(chain.token_list)
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{chain.token_list}: a token list needs a 'tokens' array")
    tokens: dict[str, TokenMeta] = {}
    for index, entry in enumerate(entries):
        where = f"{chain.token_list} tokens[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object")
        if chain.chain_id is not None and entry.get("chainId") != chain.chain_id:
            continue
        meta = _entry(chain.id, entry, where)
        tokens[meta.address] = meta
    return tokens


def _entry(chain_id: str, entry: dict[str, Any], where: str) -> TokenMeta:
    try:
        address = checksum_evm_address(str(entry.get("address", "")))
    except InvalidAddress as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    decimals = entry.get("decimals")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
        raise ConfigError(f"{where}: decimals must be an integer 0..255")
    symbol, name, logo = entry.get("symbol"), entry.get("name"), entry.get("logoURI")
    if not isinstance(symbol, str) or not isinstance(name, str):
        raise ConfigError(f"{where}: symbol and name must be strings")
    return TokenMeta(
        chain=chain_id,
        address=address,
        standard=TokenStandard.ERC20,
        symbol=symbol,
        name=name,
        decimals=decimals,
        logo=logo if isinstance(logo, str) else None,
    )


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read token list {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON: {exc}") from exc
