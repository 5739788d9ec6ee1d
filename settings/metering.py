"""Who may call, how often, and where that is remembered: `[auth]` and `[rate_limits]`.

    [auth]
    required = false        # true: requests without a valid key get 401
    data_dir = "/var/lib/balance-graph"   # the embedded store, when there is no Redis
    # (default: $XDG_DATA_HOME/balance-graph or ~/.local/share/balance-graph;
    # BALANCE_GRAPH_DATA_DIR in the environment wins)

    [rate_limits.anonymous]           # per client IP, for callers without a key
    balance = "30/min"
    balances = "10/min"
    account = "10/min"
    token = "60/min"
    introspection = "20/min"
    subscribe = "10/min"

    [rate_limits.plans.pro]           # for keys created with --plan pro (same classes)
    balance = "600/min"

A class missing from a table is not limited; keys without a plan are not rate-limited. A
table may be empty (`[rate_limits.anonymous]` with no keys: anonymous callers are unlimited).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from settings.section import Lax, Section

RateClass = Literal["balance", "balances", "account", "token", "introspection", "subscribe"]
"""Root fields are limited by class: `balance`; `balances`; `account`, `accounts` and Account
entity references; `token` and Token entity references; `introspection` (`__schema`,
`__type`: the schema query costs ~30 ms of CPU); `subscribe`, each live subscription opened
(`balanceChanges`). Other fields are free."""

DATA_DIR_ENV = "BALANCE_GRAPH_DATA_DIR"

RATE_CLASSES: tuple[RateClass, ...] = (
    "balance",
    "balances",
    "account",
    "token",
    "introspection",
    "subscribe",
)

_PERIODS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"\s*([0-9]{1,9})\s*/\s*([a-z]+)\s*")
MAX_COUNT = 1_000_000
"""Counts stay exact in the Redis script's doubles: count x period in ms < 2^53."""
PLAN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Rate:
    """At most `count` requests in any `period` seconds (a sliding window)."""

    count: int
    period: int

    def __str__(self) -> str:
        return f"{self.count}/{self.period}s"


def _rate(value: Any) -> Rate:
    if isinstance(value, Rate):
        return value
    match = _RATE.fullmatch(value) if isinstance(value, str) else None
    if match is None or match.group(2) not in _PERIODS:
        raise ValueError('must look like "30/min" (per s, min, hour or day)')
    if not 1 <= int(match.group(1)) <= MAX_COUNT:
        raise ValueError(f"must allow between 1 and {MAX_COUNT:,} requests per period")
    return Rate(int(match.group(1)), _PERIODS[match.group(2)])


RateValue = Annotated[Rate, BeforeValidator(_rate)]
RateTable = dict[RateClass, RateValue]

ANONYMOUS_DEFAULTS: dict[RateClass, Rate] = {
    "balance": Rate(30, 60),
    "balances": Rate(10, 60),
    "account": Rate(10, 60),
    "token": Rate(60, 60),
    "introspection": Rate(20, 60),
    "subscribe": Rate(10, 60),
}
"""TokenKit's session limits, plus token metadata reads, schema introspection (GraphiQL asks
once per page) and opening live subscriptions."""


class AuthConfig(Section):
    required: bool = False
    """True: a request without a valid API key gets 401."""
    data_dir: Annotated[Path | None, Lax] = None
    """Where the embedded store (SQLite) keeps keys, credits and limits when Redis is not
    configured: shared by every worker of one machine, kept across restarts."""

    @field_validator("data_dir")
    @classmethod
    def _expanded(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()

    def store_dir(self) -> Path:
        """`data_dir`, else the user's XDG data directory."""
        if self.data_dir is not None:
            return self.data_dir
        base = os.environ.get("XDG_DATA_HOME") or "~/.local/share"
        return Path(base).expanduser() / "balance-graph"


class RateLimitsConfig(Section):
    anonymous: RateTable = Field(default_factory=lambda: dict(ANONYMOUS_DEFAULTS))
    """Per client IP (per /64 for IPv6), for callers without a key."""
    plans: dict[str, RateTable] = Field(default_factory=dict)
    """Per key, for keys created with `--plan <name>`."""

    @field_validator("plans")
    @classmethod
    def _plan_names(cls, plans: dict[str, RateTable]) -> dict[str, RateTable]:
        for name in plans:
            if not PLAN_NAME.fullmatch(name):
                raise ValueError(f"plan names are 1-64 letters, digits, '.', '_' or '-': {name!r}")
        return plans
