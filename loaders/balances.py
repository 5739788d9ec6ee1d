"""Per-request balance loader: every lookup of a request, one reader round per chain.

Keys carry the caller's freshness; the reader merges identical (chain, account, token)
lookups of one round, so asking for the same balance with two `maxAge`s costs one sub-call.
"""

from __future__ import annotations

import asyncio
from typing import cast

from aiodataloader import DataLoader

from chains.errors import ChainError
from chains.models import BalanceReading
from chains.reader import BalanceRequest
from chains.registry import ChainRegistry
from loaders.per_chain import per_chain
from loaders.tokens import TokenLoader


class BalanceLoader:
    """Loads `BalanceReading`s; a failed lookup raises its `ChainError`."""

    def __init__(
        self, registry: ChainRegistry, tokens: TokenLoader, deadline: float | None = None
    ) -> None:
        self._registry = registry
        self._deadline = deadline
        self._tokens = tokens
        self._loader: DataLoader[BalanceRequest, BalanceReading] = DataLoader(self._batch)

    async def load(self, request: BalanceRequest) -> BalanceReading:
        return await self._loader.load(request)

    async def load_many(self, requests: list[BalanceRequest]) -> list[BalanceReading | ChainError]:
        """Every request's reading or error, without letting one failure hide the others.

        What this process's cache holds fresh enough is answered at once, without a loader
        future per lookup; only the rest is batched into each chain's round."""
        found: dict[int, BalanceReading | ChainError] = {}
        by_chain: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_chain.setdefault(request.key.chain, []).append(index)
        for chain, indexes in by_chain.items():
            held = self._registry.get(chain).reader.held([requests[i] for i in indexes])
            found.update((indexes[i], reading) for i, reading in held.items())
        pending = [i for i in range(len(requests)) if i not in found]
        if pending:
            outcomes = await asyncio.gather(
                *(self._loader.load(requests[i]) for i in pending), return_exceptions=True
            )
            found.update(zip(pending, map(_outcome, outcomes), strict=True))
        return [found[i] for i in range(len(requests))]

    async def _batch(self, requests: list[BalanceRequest]) -> list[BalanceReading]:
        outcomes = await per_chain(requests, lambda request: request.key.chain, self._read)
        # aiodataloader raises an Exception value at its key's `load`, which is what we want.
        return cast(list[BalanceReading], outcomes)

    async def _read(
        self, chain: str, requests: list[BalanceRequest]
    ) -> list[BalanceReading | ChainError]:
        reader = self._registry.get(chain).reader
        readings, metas = await reader.balances(requests, self._deadline)
        for meta in metas.values():
            self._tokens.prime(meta)
        return readings


def _outcome(value: BalanceReading | BaseException) -> BalanceReading | ChainError:
    """Readings and expected errors are values; anything else is a bug and is raised."""
    if isinstance(value, BalanceReading | ChainError):
        return value
    raise value
