"""Which tokens are spam: the token list's tags, the operator's deny list, and a heuristic.

The heuristic flags unlisted tokens whose symbol or name advertises something: a URL or
domain, a messaging handle, or "claim"/"reward"/"airdrop"/"voucher"-style bait. That is the
shape of nearly every scam airdrop, and a real token's ticker never looks like it. Tokens in
the operator's token list are trusted unless the list itself tags them `spam`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.errors import ServiceError
from core.models import TokenMeta, TokenRef
from settings import ConfigError, SpamConfig

NormalizeToken = Callable[[str, str], tuple[str, TokenRef]]
"""(chain id as written, token text) -> (canonical chain id, token), raising `ServiceError`
for an unknown chain or a token its family cannot parse."""

_BAIT = re.compile(
    r"https?://|www\.|t\.me/|\.(?:com|io|org|net|xyz|site|app|finance|gift|top|vip|cc)\b"
    r"|\b(?:claim|reward|rewards|airdrop|voucher|visit|bonus|free)\b",
    re.IGNORECASE,
)


class SpamPolicy:
    """Decides `Token.isSpam`. Deny entries are canonical (chain id, token) pairs: an entry
    also covers every id of an ERC-1155 contract it names."""

    def __init__(self, deny: frozenset[tuple[str, TokenRef]], heuristic: bool) -> None:
        self._deny = deny
        self._heuristic = heuristic

    @classmethod
    def configured(cls, config: SpamConfig, normalize: NormalizeToken) -> SpamPolicy:
        """The operator's policy, each `[spam] deny` entry parsed by its chain's family (so
        any spelling of an address matches); an entry that names nothing is a config error."""
        deny: set[tuple[str, TokenRef]] = set()
        for chain_id, text in sorted(config.deny):
            try:
                deny.add(normalize(chain_id, text))
            except ServiceError as exc:
                raise ConfigError(f"[spam] deny {chain_id}:{text}: {exc.message}") from exc
        return cls(frozenset(deny), config.heuristic)

    def is_spam(self, meta: TokenMeta, *, listed: bool) -> bool:
        if meta.token.is_native:
            return False
        if meta.spam:
            return True
        if self._deny and (
            (meta.chain, meta.token) in self._deny
            or (
                meta.token.token_id is not None
                and (meta.chain, TokenRef(meta.contract)) in self._deny
            )
        ):
            return True
        if not self._heuristic or listed:
            return False
        return any(_BAIT.search(t) for t in (meta.symbol, meta.name) if t)
