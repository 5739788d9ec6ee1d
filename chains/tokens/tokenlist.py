"""Uniswap token-list JSON (https://tokenlists.org) -> the token metadata of one chain.

The operator's list is read strictly: a malformed entry stops start-up with its index (a
wrong `decimals` would otherwise be served as a wrong amount). The lists the service ships
are third-party data and read leniently: an entry we cannot use is skipped and counted.
Logos are served as HTTPS URLs: `ipfs://` becomes the configured gateway's, anything but
http(s) is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from core.errors import InvalidAddress
from core.models import NATIVE_TOKEN, TokenMeta, TokenRef, TokenStandard
from settings import ChainConfig, ConfigError, Secret

DEFAULT_GATEWAY = "https://ipfs.io/ipfs/"
MAX_LIST_BYTES = 16 * 1024 * 1024
Normalize = Callable[[str], TokenRef]


class BadEntry(ValueError):
    """An entry of a token list that cannot be used, and why."""


def native_token(chain: ChainConfig, gateway: str = DEFAULT_GATEWAY) -> TokenMeta:
    """The chain's native asset, described by its config."""
    return TokenMeta(
        chain=chain.id,
        token=NATIVE_TOKEN,
        standard=TokenStandard.NATIVE,
        symbol=chain.native.symbol,
        name=chain.native.name,
        decimals=chain.native.decimals,
        logo=logo_url(chain.native.logo, gateway),
    )


def load_token_list(
    chain: ChainConfig, normalize: Normalize, gateway: str = DEFAULT_GATEWAY
) -> dict[TokenRef, TokenMeta]:
    """The chain's own listed tokens (`tokens =`, a file or an http(s) URL) by their
    canonical reference (empty when it has no list). Entries for other `chainId`s are
    skipped, so one list can serve several chains. Entries may carry `extensions.standard`
    (ERC20, ERC721, ERC1155), `extensions.tokenId` (ERC1155) and `tags` (`"spam"` flags the
    token)."""
    if chain.token_list_url is not None:
        url = chain.token_list_url
        return read_list(chain, fetch_list(url), url.label, normalize, gateway)
    if chain.token_list is None:
        return {}
    return read_list(chain, _read(chain.token_list), str(chain.token_list), normalize, gateway)


def fetch_list(url: Secret, timeout: float = 10.0, limit: int = MAX_LIST_BYTES) -> Any:
    """A token list at `url`, read whole under `limit` bytes within `timeout`, at start-up
    (so synchronously). Every failure is a `ConfigError` naming the URL by scheme and host."""
    body = bytearray()
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url.value, headers={"accept": "application/json"}) as answer,
        ):
            if answer.status_code != 200:
                raise ConfigError(f"cannot fetch token list {url.label}: HTTP {answer.status_code}")
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise ConfigError(f"token list {url.label} is over {limit} bytes")
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot fetch token list {url.label} ({type(exc).__name__})") from None
    try:
        return json.loads(body)
    except ValueError:
        raise ConfigError(f"token list {url.label} is not JSON") from None


def read_list(
    chain: ChainConfig, document: Any, source: str, normalize: Normalize, gateway: str
) -> dict[TokenRef, TokenMeta]:
    """A token list the operator gave (strictly: any bad entry is a `ConfigError`)."""
    tokens: dict[TokenRef, TokenMeta] = {}
    for index, entry in entries_of(chain, document, source):
        try:
            meta = parse_entry(chain.id, entry, normalize, gateway)
        except BadEntry as exc:
            raise ConfigError(f"{source} tokens[{index}]: {exc}") from None
        tokens[meta.token] = meta
    return tokens


def entries_of(chain: ChainConfig, document: Any, source: str) -> Iterator[tuple[int, Any]]:
    """(index, entry) of each entry of `document` for `chain` (by `chainId` on EVM chains)."""
    entries = document.get("tokens") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: a token list needs a 'tokens' array")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"{source} tokens[{index}]: expected an object")
        if chain.chain_id is None or entry.get("chainId") == chain.chain_id:
            yield index, entry


def parse_entry(
    chain_id: str, entry: dict[str, Any], normalize: Normalize, gateway: str
) -> TokenMeta:
    """One entry as token metadata, or `BadEntry` saying what is wrong with it."""
    raw_extensions = entry.get("extensions")
    extensions: dict[str, Any] = raw_extensions if isinstance(raw_extensions, dict) else {}
    try:
        standard = TokenStandard(str(extensions.get("standard", "ERC20")).upper())
    except ValueError:
        raise BadEntry("extensions.standard must be ERC20, ERC721 or ERC1155") from None
    token_id = extensions.get("tokenId")
    if (standard is TokenStandard.ERC1155) != (token_id is not None):
        raise BadEntry("extensions.tokenId is required for (and only for) ERC1155")
    if token_id is not None and not _is_token_id(token_id):
        raise BadEntry("extensions.tokenId must be a decimal integer below 2^256")
    try:
        contract = normalize(str(entry.get("address", "")))
    except InvalidAddress as exc:
        raise BadEntry(exc.message) from None
    if contract.is_native or contract.token_id is not None:
        raise BadEntry("address must be a contract address")
    token = TokenRef(contract.contract, None if token_id is None else int(token_id))
    decimals = entry.get("decimals", 0 if standard is not TokenStandard.ERC20 else None)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
        raise BadEntry("decimals must be an integer 0..255")
    symbol, name, logo = entry.get("symbol"), entry.get("name"), entry.get("logoURI")
    if not isinstance(symbol, str) or not isinstance(name, str):
        raise BadEntry("symbol and name must be strings")
    tags = entry.get("tags")
    return TokenMeta(
        chain=chain_id,
        token=token,
        standard=standard,
        symbol=symbol,
        name=name,
        decimals=decimals,
        logo=logo_url(logo, gateway),
        spam=isinstance(tags, list) and "spam" in tags,
    )


def logo_url(logo: Any, gateway: str) -> str | None:
    """A logo as an HTTPS (or HTTP) URL: `ipfs://<cid>/path` through `gateway`; anything else
    (data URIs, relative names) is no logo at all."""
    if not isinstance(logo, str) or len(logo) > 2_048:
        return None
    if logo.startswith("ipfs://"):
        path = logo.removeprefix("ipfs://").removeprefix("ipfs/")
        return gateway + path if path else None
    return logo if logo.startswith(("https://", "http://")) else None


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
