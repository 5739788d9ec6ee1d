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
from loaders.tokens import TokenLoader


class BalanceLoader:
    """Loads `BalanceReading`s; a failed lookup raises its `ChainError`."""

    def __init__(self, registry: ChainRegistry, tokens: TokenLoader) -> None:
        self._registry = registry
        self._tokens = tokens
        self._loader: DataLoader[BalanceRequest, BalanceReading] = DataLoader(self._batch)

    async def load(self, request: BalanceRequest) -> BalanceReading:
        return await self._loader.load(request)

    async def load_many(self, requests: list[BalanceRequest]) -> list[BalanceReading | ChainError]:
        """Every request's reading or error, without letting one failure hide the others."""
        outcomes = await asyncio.gather(
            *(self._loader.load(r) for r in requests), return_exceptions=True
        )
        return [_outcome(o) for o in outcomes]

    async def _batch(self, requests: list[BalanceRequest]) -> list[BalanceReading]:
        by_chain: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_chain.setdefault(request.key.chain, []).append(index)
        answers = await asyncio.gather(
            *(
                self._registry.get(chain).reader.balances([requests[i] for i in indexes])
                for chain, indexes in by_chain.items()
            ),
            return_exceptions=True,  # a bug met on one chain must not take the others down
        )
        outcomes: list[BalanceReading | BaseException] = [None] * len(requests)  # type: ignore[list-item]
        for indexes, answer in zip(by_chain.values(), answers, strict=True):
            if isinstance(answer, BaseException):
                for index in indexes:
                    outcomes[index] = answer
                continue
            readings, metas = answer
            for meta in metas.values():
                self._tokens.prime(meta)
            for index, reading in zip(indexes, readings, strict=True):
                outcomes[index] = reading
        # aiodataloader raises an Exception value at its key's `load`, which is what we want.
        return cast(list[BalanceReading], outcomes)


def _outcome(value: BalanceReading | BaseException) -> BalanceReading | ChainError:
    """Readings and expected errors are values; anything else is a bug and is raised."""
    if isinstance(value, BalanceReading | ChainError):
        return value
    raise value
