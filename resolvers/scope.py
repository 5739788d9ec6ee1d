"""What one GraphQL request gives the resolvers: chains, loaders, limits and a lookup budget."""

from __future__ import annotations

from dataclasses import dataclass

from chains.config import LimitsConfig
from chains.errors import CostLimitExceeded
from chains.registry import ChainRegistry
from chains.spam import SpamPolicy
from loaders.context import Loaders


@dataclass
class RequestScope:
    registry: ChainRegistry
    loaders: Loaders
    limits: LimitsConfig
    default_max_age: int
    spam: SpamPolicy
    lookups: int = 0

    def charge(self, lookups: int) -> None:
        """Spend `lookups` of the request's budget (aliases cannot multiply a query's cost)."""
        if self.lookups + lookups > self.limits.max_lookups:
            raise CostLimitExceeded(
                f"this request asks for more than {self.limits.max_lookups} balance lookups; "
                "split it into several requests"
            )
        self.lookups += lookups
