"""Per-request discovery loader: every (chain, account) a request discovers, together.

All the accounts of a request (`accounts(addresses:)`, entity references) are discovered in
one batch, so their balance reads that follow still meet in one round per chain. Discovery
waits until `DISCOVERY_SHARE` of the time left to the request's deadline at most: the rest is
for reading the balances of what was found.
"""

from __future__ import annotations

import asyncio
from typing import cast

from aiodataloader import DataLoader

from chains.discovery.service import Discovered
from chains.registry import ChainRegistry

DISCOVERY_SHARE = 0.6
DiscoveryKey = tuple[str, str, bool]
"""(chain id, canonical account, whether to wait for a running scan)."""


class DiscoveryLoader:
    """Loads `Discovered` by (chain, account); the chain must have discovery."""

    def __init__(self, registry: ChainRegistry, deadline: float | None = None) -> None:
        self._registry = registry
        self._deadline = deadline
        self._loader: DataLoader[DiscoveryKey, Discovered] = DataLoader(self._batch)

    async def load(self, chain: str, account: str, *, wait: bool = True) -> Discovered:
        return await self._loader.load((chain, account, wait))

    async def _batch(self, keys: list[DiscoveryKey]) -> list[Discovered]:
        wait_until = None
        if self._deadline is not None:
            now = asyncio.get_running_loop().time()
            wait_until = now + max(0.0, self._deadline - now) * DISCOVERY_SHARE
        outcomes = await asyncio.gather(
            *(self._discover(key, wait_until) for key in keys), return_exceptions=True
        )
        # aiodataloader raises an Exception value at its key's `load`, as wanted.
        return cast(list[Discovered], outcomes)

    async def _discover(self, key: DiscoveryKey, wait_until: float | None) -> Discovered:
        chain, account, wait = key
        discovery = self._registry.get(chain).discovery
        if discovery is None:
            raise LookupError(f"{chain} has no discovery")  # resolvers check first: a bug
        return await discovery.discover(account, wait_until, wait_for_scan=wait)
