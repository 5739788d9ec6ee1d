"""The loaders of one request. Build them per request: their caches must not outlive it."""

from __future__ import annotations

from dataclasses import dataclass

from chains.registry import ChainRegistry
from loaders.balances import BalanceLoader
from loaders.tokens import TokenLoader


@dataclass(frozen=True)
class Loaders:
    balances: BalanceLoader
    tokens: TokenLoader


def build_loaders(registry: ChainRegistry) -> Loaders:
    tokens = TokenLoader(registry)
    return Loaders(balances=BalanceLoader(registry, tokens), tokens=tokens)
