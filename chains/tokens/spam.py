"""Which tokens are spam: the token list's tags, the operator's deny list, and a heuristic.

The heuristic flags unlisted tokens whose symbol or name advertises something: a URL or
domain, a messaging handle, or "claim"/"reward"/"airdrop"/"voucher"-style bait. That is the
shape of nearly every scam airdrop, and a real token's ticker never looks like it. Tokens in
the operator's token list are trusted unless the list itself tags them `spam`.
"""

from __future__ import annotations

import re

from chains.models import TokenMeta
from settings import SpamConfig

_BAIT = re.compile(
    r"https?://|www\.|t\.me/|\.(?:com|io|org|net|xyz|site|app|finance|gift|top|vip|cc)\b"
    r"|\b(?:claim|reward|rewards|airdrop|voucher|visit|bonus|free)\b",
    re.IGNORECASE,
)


class SpamPolicy:
    def __init__(self, config: SpamConfig) -> None:
        self._deny = config.deny
        self._heuristic = config.heuristic

    def is_spam(self, meta: TokenMeta, *, listed: bool) -> bool:
        if meta.token.is_native:
            return False
        if meta.spam or (meta.chain, str(meta.token)) in self._deny:
            return True
        if (meta.chain, meta.contract) in self._deny:
            return True
        texts = [t for t in (meta.symbol, meta.name) if t]
        return self._heuristic and not listed and any(_BAIT.search(t) for t in texts)
