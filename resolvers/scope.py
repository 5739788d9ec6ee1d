"""What one GraphQL request gives the resolvers: chains, loaders, limits and a lookup budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from chains.errors import CostLimitExceeded
from chains.reader import Freshness
from chains.registry import ChainRegistry
from chains.tokens.spam import SpamPolicy
from loaders.context import Loaders
from settings import LimitsConfig


@dataclass
class CacheHints:
    """What the response may promise a shared cache, from what the fields actually served.

    Resolvers call `served` for every freshness contract they read with and `priced` when
    they serve USD prices; the HTTP layer turns the result into `Cache-Control`.
    """

    default_max_age: int
    price_ttl: int
    max_ages: list[int] = field(default_factory=list)
    forced: bool = False
    prices: bool = False

    def served(self, fresh: Freshness) -> None:
        self.max_ages.append(fresh.max_age)
        self.forced |= fresh.force_refresh

    def priced(self) -> None:
        self.prices = True

    def max_age(self) -> int | None:
        """The smallest freshness any field asked for (and the price cache's, if prices were
        served); `None` after a forced refresh, which must never be served from a cache."""
        if self.forced:
            return None
        ages = [*self.max_ages, *([self.price_ttl] if self.prices else [])]
        return min(ages) if ages else self.default_max_age


@dataclass
class RequestScope:
    registry: ChainRegistry
    loaders: Loaders
    limits: LimitsConfig
    default_max_age: int
    spam: SpamPolicy
    hints: CacheHints
    lookups: int = 0

    def charge(self, lookups: int) -> None:
        """Spend `lookups` of the request's budget (aliases cannot multiply a query's cost)."""
        if self.lookups + lookups > self.limits.max_lookups:
            raise CostLimitExceeded(
                f"this request asks for more than {self.limits.max_lookups} balance lookups; "
                "split it into several requests"
            )
        self.lookups += lookups
