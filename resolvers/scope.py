"""What one GraphQL request gives the resolvers: chains, loaders, limits and a lookup budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chains.reader import Freshness
from chains.registry import ChainRegistry
from chains.tokens.spam import SpamPolicy
from core.errors import CostLimitExceeded
from core.identity import IdentityMemo
from loaders.context import Loaders
from resolvers.rows import BalanceRow
from settings import LimitsConfig

VIEWS_CAPACITY = 16_384
"""Rows each memo of `Views` keeps: a few large warm answers' worth, a few MB."""


@dataclass(frozen=True)
class Views:
    """What warm rows are made into, kept across the requests of one service (`IdentityMemo`):
    a reading with its token's metadata as a `BalanceRow`, a row as its GraphQL object."""

    rows: IdentityMemo[BalanceRow] = field(default_factory=lambda: IdentityMemo(VIEWS_CAPACITY))
    objects: IdentityMemo[Any] = field(default_factory=lambda: IdentityMemo(VIEWS_CAPACITY))


@dataclass
class CacheHints:
    """Until when the response is as fresh as its fields promised, from what they served.

    Resolvers call `served` with every freshness contract they read with, `read` with when
    each value they used left the chain, and `priced` with when each price was fetched. A
    field-by-field read would give the same answer until `expires_at`: the oldest value
    reaches the smallest `maxAge` asked, or the oldest price the price cache's TTL. The HTTP
    layer turns it into `Cache-Control`, and the response cache into an entry's lifetime.
    """

    default_max_age: int
    price_ttl: int
    max_ages: list[int] = field(default_factory=list)
    forced: bool = False
    volatile: bool = False
    """Something served describes work in progress (discovery's progress): never kept."""
    oldest_read: float | None = None
    """Unix seconds."""
    oldest_price: float | None = None
    """Unix seconds."""

    def served(self, fresh: Freshness) -> None:
        self.max_ages.append(fresh.max_age)
        self.forced |= fresh.force_refresh

    def read(self, at: datetime) -> None:
        seconds = at.timestamp()
        if self.oldest_read is None or seconds < self.oldest_read:
            self.oldest_read = seconds

    def priced(self, fetched: float) -> None:
        if self.oldest_price is None or fetched < self.oldest_price:
            self.oldest_price = fetched

    @property
    def prices(self) -> bool:
        return self.oldest_price is not None

    def expires_at(self, now: float) -> float | None:
        """Unix seconds; `None` after a forced refresh, or when the response describes work in
        progress: those must never be served from a cache. A response with neither balances
        nor prices (chains, token lists) keeps the default `maxAge`."""
        if self.forced or self.volatile:
            return None
        ends: list[float] = []
        if self.max_ages:
            start = self.oldest_read if self.oldest_read is not None else now
            ends.append(start + min(self.max_ages))
        if self.oldest_price is not None:
            ends.append(self.oldest_price + self.price_ttl)
        return min(ends) if ends else now + self.default_max_age


@dataclass
class RequestScope:
    registry: ChainRegistry
    loaders: Loaders
    limits: LimitsConfig
    default_max_age: int
    spam: SpamPolicy
    hints: CacheHints
    views: Views = field(default_factory=Views)
    """Shared by the service's requests (a scope of its own in tests)."""
    deadline: float | None = None
    """When the request stops waiting for upstreams (event loop clock); `None`: never."""
    lookups: int = 0

    def charge(self, lookups: int) -> None:
        """Spend `lookups` of the request's budget (aliases cannot multiply a query's cost)."""
        if self.lookups + lookups > self.limits.max_lookups:
            raise CostLimitExceeded(
                f"this request asks for more than {self.limits.max_lookups} balance lookups; "
                "split it into several requests"
            )
        self.lookups += lookups
