"""API keys: made here, shown once, remembered only as a SHA-256 digest.

A key is `bgk_` and 43 URL-safe characters: 256 random bits from `secrets`. With that much
entropy a plain SHA-256 is the right storage (as for GitHub's tokens): nothing to brute force,
and a lookup is one hash. Text that does not have the shape of a key is refused without
touching the store. Keys are named by their `name` everywhere else: logs, metrics, the CLI.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

PREFIX = "bgk_"
_SHAPE = re.compile(r"bgk_[A-Za-z0-9_-]{43}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Key names: they label metrics and appear in logs, so short and plain."""


def new_key() -> str:
    """A fresh key (print it once; store only `digest(key)`)."""
    return PREFIX + secrets.token_urlsafe(32)


def well_formed(text: str) -> bool:
    return _SHAPE.fullmatch(text) is not None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError(
            f"key names are 1-64 letters, digits, '.', '_' or '-', starting with a letter or "
            f"digit: {name!r}"
        )
    return name


MAX_CREDITS = 10**15
"""The most credits a key may hold: exact in both stores, and in the doubles Redis's Lua
computes with (exact below 2^53). The CLI refuses more before it reaches a store."""


def credits_in_range(value: object) -> int | None:
    """A stored balance as an exact integer from 0 to `MAX_CREDITS`, or `None` when it is
    anything else (a float, text, out of range): such a balance is unreadable."""
    if type(value) is int:
        number = value
    elif isinstance(value, bytes | str) and value.isascii() and value.isdigit():
        number = int(value) if len(value) <= len(str(MAX_CREDITS)) else -1
    else:
        return None
    return number if 0 <= number <= MAX_CREDITS else None


def over_maximum(credits: int) -> str:
    return f"a key holds at most {MAX_CREDITS:,} credits; {credits:,} is too many"


@dataclass(frozen=True)
class KeyRecord:
    """What the store knows of a key (never the key itself)."""

    digest: str
    name: str
    plan: str | None
    """Rate-limit plan (`[rate_limits.plans.<plan>]`); `None`: not rate-limited."""
    credits: int | None
    """Credits left; `None`: the key has no balance and is never refused for credits."""
    revoked: bool
    created: float
    """Unix seconds."""
    last_used: float | None = None
    requests: int = 0
    """Requests admitted with this key, ever."""
    spent: int = 0
    """Credits charged to this key, ever (keys without a balance count them too)."""
    damaged: str | None = None
    """What is wrong with the stored balance when it cannot be read as credits (not an
    integer from 0 to `MAX_CREDITS`): the key is refused, never treated as unlimited."""
