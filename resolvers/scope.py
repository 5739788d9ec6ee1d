"""What one GraphQL request gives the resolvers: chains, loaders, limits and a lookup budget."""

from __future__ import annotations

from dataclasses import dataclass, field

from chains.errors import CostLimitExceeded
from chains.registry import ChainRegistry
from chains.tokens.spam import SpamPolicy
from loaders.context import Loaders
from settings import LimitsConfig


@dataclass
class RequestScope:
    registry: ChainRegistry
    loaders: Loaders
    limits: LimitsConfig
    default_max_age: int
    spam: SpamPolicy
    price_ttl: int = 60
    lookups: int = 0
    max_ages: list[int] = field(default_factory=list)
    forced: bool = False
    priced: bool = False

    def cache_max_age(self) -> int | None:
        """How long the response may be cached: the smallest freshness any field asked for
        (and the price cache's, if prices were served); `None` after a forced refresh."""
        if self.forced:
            return None
        ages = [*self.max_ages, *([self.price_ttl] if self.priced else [])]
        return min(ages) if ages else self.default_max_age

    def charge(self, lookups: int) -> None:
        """Spend `lookups` of the request's budget (aliases cannot multiply a query's cost)."""
        if self.lookups + lookups > self.limits.max_lookups:
            raise CostLimitExceeded(
                f"this request asks for more than {self.limits.max_lookups} balance lookups; "
                "split it into several requests"
            )
        self.lookups += lookups
