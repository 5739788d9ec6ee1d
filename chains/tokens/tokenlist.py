"""Uniswap token-list JSON (https://tokenlists.org) -> the token metadata of one chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import InvalidAddress
from core.models import NATIVE_TOKEN, TokenMeta, TokenRef, TokenStandard
from settings import ChainConfig, ConfigError


def native_token(chain: ChainConfig) -> TokenMeta:
    """The chain's native asset, described by its config."""
    return TokenMeta(
        chain=chain.id,
        token=NATIVE_TOKEN,
        standard=TokenStandard.NATIVE,
        symbol=chain.native.symbol,
        name=chain.native.name,
        decimals=chain.native.decimals,
        logo=chain.native.logo,
    )


Normalize = Callable[[str], TokenRef]


def load_token_list(chain: ChainConfig, normalize: Normalize) -> dict[TokenRef, TokenMeta]:
    """The chain's listed tokens by their canonical reference (empty when it has no list).

    Entries for other `chainId`s are skipped, so one list can serve several chains.
    A malformed entry stops start-up with its index: a wrong `decimals` in a list would
    otherwise be served as a wrong amount. `normalize` is the chain family's token parser.
    Entries may carry `extensions.standard` (ERC20, ERC721, ERC1155), `extensions.tokenId`
    (ERC1155) and `tags` (`"spam"` flags the token).
    """
    if chain.token_list is None:
        return {}
    document = _read(chain.token_list)
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{chain.token_list}: a token list needs a 'tokens' array")
    tokens: dict[TokenRef, TokenMeta] = {}
    for index, entry in enumerate(entries):
        where = f"{chain.token_list} tokens[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an object")
        if chain.chain_id is not None and entry.get("chainId") != chain.chain_id:
            continue
        meta = _entry(chain.id, entry, where, normalize)
        tokens[meta.token] = meta
    return tokens


def _entry(chain_id: str, entry: dict[str, Any], where: str, normalize: Normalize) -> TokenMeta:
    raw_extensions = entry.get("extensions")
    extensions: dict[str, Any] = raw_extensions if isinstance(raw_extensions, dict) else {}
    try:
        standard = TokenStandard(str(extensions.get("standard", "ERC20")).upper())
    except ValueError as exc:
        raise ConfigError(f"{where}: extensions.standard must be ERC20, ERC721 or ERC1155") from exc
    token_id = extensions.get("tokenId")
    if (standard is TokenStandard.ERC1155) != (token_id is not None):
        raise ConfigError(f"{where}: extensions.tokenId is required for (and only for) ERC1155")
    if token_id is not None and not _is_token_id(token_id):
        raise ConfigError(f"{where}: extensions.tokenId must be a decimal integer below 2^256")
    try:
        contract = normalize(str(entry.get("address", "")))
    except InvalidAddress as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if contract.is_native or contract.token_id is not None:
        raise ConfigError(f"{where}: address must be a contract address")
    token = TokenRef(contract.contract, None if token_id is None else int(token_id))
    decimals = entry.get("decimals", 0 if standard is not TokenStandard.ERC20 else None)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
        raise ConfigError(f"{where}: decimals must be an integer 0..255")
    symbol, name, logo = entry.get("symbol"), entry.get("name"), entry.get("logoURI")
    if not isinstance(symbol, str) or not isinstance(name, str):
        raise ConfigError(f"{where}: symbol and name must be strings")
    tags = entry.get("tags")
    return TokenMeta(
        chain=chain_id,
        token=token,
        standard=standard,
        symbol=symbol,
        name=name,
        decimals=decimals,
        logo=logo if isinstance(logo, str) else None,
        spam=isinstance(tags, list) and "spam" in tags,
    )


def _is_token_id(value: Any) -> bool:
    """A JSON token id: a non-negative integer below 2^256, as a number or a decimal string."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**256


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read token list {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON: {exc}") from exc
