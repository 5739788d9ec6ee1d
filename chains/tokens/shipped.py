"""The token lists shipped with the service, merged per chain.

The lists (`npm_lists.SHIPPED_LISTS`) come from npm packages pinned in package-lock.json: an
installed wheel carries copies made at build time (`chains/tokens/vendor/`); a checkout reads
them from `node_modules`. They are read once at start-up, leniently (an entry that cannot be
used is skipped and counted), merged per chain by `chainId` and de-duplicated by address.

The first list to name a token gives its name and logo (a later one only fills a missing
logo). Where the lists disagree on a token's symbol or decimals, the token is `unsettled`:
it is still read with the list's tokens, but its metadata comes from the chain itself, which
wins. Placeholder entries for a chain's native coin (the zero address, OP's legacy ETH,
Polygon's `0x…1010`) are skipped: native balances are read as such.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from chains.tokens.npm_lists import SHIPPED_LISTS, VENDOR_DIR, ListPackage
from chains.tokens.tokenlist import BadEntry, Normalize, entries_of, parse_entry
from core.models import TokenMeta, TokenRef
from core.npm import find_node_modules
from settings import ChainConfig, ConfigError

log = logging.getLogger(__name__)

PLACEHOLDERS = frozenset(
    {
        "0x0000000000000000000000000000000000000000",
        "0xdeaddeaddeaddeaddeaddeaddeaddeaddead0000",
        "0x0000000000000000000000000000000000001010",
    }
)


@dataclass(frozen=True)
class ShippedList:
    name: str
    document: Any


@dataclass
class Merged:
    """One chain's tokens from the shipped lists."""

    trusted: dict[TokenRef, TokenMeta] = field(default_factory=dict)
    """Every list that names the token agrees on its symbol and decimals."""
    unsettled: dict[TokenRef, TokenMeta] = field(default_factory=dict)
    """Lists disagree: the chain's own answer decides (the logo is kept)."""
    skipped: int = 0


def shipped_lists(directory: Traversable | Path | None = None) -> list[ShippedList]:
    """Every shipped list, parsed, in precedence order; those not found are left out with a
    warning (a checkout without `npm ci`)."""
    found: list[ShippedList] = []
    for package in SHIPPED_LISTS:
        text = _text(package, directory)
        if text is None:
            log.warning(
                "shipped token list %s not found (run `npm ci` in a checkout)", package.package
            )
            continue
        try:
            found.append(ShippedList(package.package, _document(package, text)))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            message = f"the shipped token list {package.package} is unreadable: {exc}"
            raise ConfigError(message) from exc
    return found


def merge(
    chain: ChainConfig, lists: list[ShippedList], normalize: Normalize, gateway: str
) -> Merged:
    """`chain`'s tokens from `lists` (only chains with an EIP-155 `chain_id` have any)."""
    merged = Merged()
    if chain.chain_id is None:
        return merged
    for shipped in lists:
        for _, entry in entries_of(chain, shipped.document, shipped.name):
            try:
                meta = parse_entry(chain.id, entry, normalize, gateway)
            except BadEntry:
                merged.skipped += 1
                continue
            if meta.contract.lower() not in PLACEHOLDERS:
                _add(merged, meta)
    return merged


def with_logos(own: dict[TokenRef, TokenMeta], shipped: Merged) -> dict[TokenRef, TokenMeta]:
    """The operator's own list on top of the shipped ones: its entries win, and one without
    a logo takes the logo a shipped list gives."""
    merged: dict[TokenRef, TokenMeta] = {}
    for token, meta in own.items():
        other = shipped.trusted.get(token) or shipped.unsettled.get(token)
        if meta.logo is None and other is not None and other.logo is not None:
            meta = replace(meta, logo=other.logo)
        merged[token] = meta
    return merged


def _add(merged: Merged, meta: TokenMeta) -> None:
    token = meta.token
    known = merged.trusted.get(token) or merged.unsettled.get(token)
    if known is None:
        merged.trusted[token] = meta
        return
    if known.logo is None and meta.logo is not None:
        known = replace(known, logo=meta.logo)
    disagree = (known.symbol, known.decimals) != (meta.symbol, meta.decimals)
    if disagree or token in merged.unsettled:
        merged.trusted.pop(token, None)
        merged.unsettled[token] = known
    else:
        merged.trusted[token] = known


def _text(package: ListPackage, directory: Traversable | Path | None) -> str | None:
    candidates: list[Traversable | Path] = []
    if directory is not None:
        candidates.append(directory.joinpath(package.vendored_name))
    else:
        candidates.append(
            resources.files("chains.tokens").joinpath(VENDOR_DIR, package.vendored_name)
        )
        candidates.append(find_node_modules() / package.package / package.path)
    for candidate in candidates:
        try:
            return candidate.read_text(encoding="utf-8")
        except OSError:
            continue
    return None


def _document(package: ListPackage, text: str) -> Any:
    if package.layout == "sourcemap":
        text = json.loads(text)["sourcesContent"][0]
    return json.loads(text)
