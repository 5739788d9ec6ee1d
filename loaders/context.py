"""The loaders of one request. Build them per request: their caches must not outlive it."""

from __future__ import annotations

from dataclasses import dataclass

from chains.registry import ChainRegistry
from loaders.balances import BalanceLoader
from loaders.discovery import DiscoveryLoader
from loaders.past import PastBalanceLoader
from loaders.prices import PriceLoader
from loaders.tokens import TokenLoader
from prices.reader import PriceReader


@dataclass(frozen=True)
class Loaders:
    balances: BalanceLoader
    tokens: TokenLoader
    prices: PriceLoader
    past: PastBalanceLoader
    discovery: DiscoveryLoader


def build_loaders(
    registry: ChainRegistry, prices: PriceReader, deadline: float | None = None
) -> Loaders:
    """A request's loaders; `deadline` (event loop clock) bounds every upstream wait."""
    tokens = TokenLoader(registry, deadline)
    return Loaders(
        balances=BalanceLoader(registry, tokens, deadline),
        tokens=tokens,
        prices=PriceLoader(prices, deadline),
        past=PastBalanceLoader(registry, deadline),
        discovery=DiscoveryLoader(registry, deadline),
    )
