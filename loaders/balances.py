"""Per-request balance loader: every lookup of a request, one reader round per chain.

Keys carry the caller's freshness; the reader merges identical (chain, account, token)
lookups of one round, so asking for the same balance with two `maxAge`s costs one sub-call.
"""

from __future__ import annotations

from aiodataloader import DataLoader

from chains.reader import BalanceRequest
from chains.registry import ChainRegistry
from core.errors import ChainError
from core.models import BalanceReading
from loaders.per_chain import per_chain
from loaders.tokens import TokenLoader


class _Lookups:
    """One `load_many`'s requests: the loader's key (by identity: each call is its own)."""

    __slots__ = ("requests",)

    def __init__(self, requests: list[BalanceRequest]) -> None:
        self.requests = requests


Outcome = BalanceReading | ChainError


class BalanceLoader:
    """Loads `BalanceReading`s; a failed lookup is its `ChainError`.

    The loader batches calls, not keys: every `load_many` of one tick joins one round per
    chain (the reader merges identical lookups of a round), for one future per call rather
    than one per lookup."""

    def __init__(
        self, registry: ChainRegistry, tokens: TokenLoader, deadline: float | None = None
    ) -> None:
        self._registry = registry
        self._deadline = deadline
        self._tokens = tokens
        self._loader: DataLoader[_Lookups, list[Outcome]] = DataLoader(self._batch, cache=False)

    async def load(self, request: BalanceRequest) -> BalanceReading:
        """One reading; raises its `ChainError`."""
        (outcome,) = await self.load_many([request])
        if isinstance(outcome, ChainError):
            raise outcome
        return outcome

    async def load_many(self, requests: list[BalanceRequest]) -> list[Outcome]:
        """Every request's reading or error, without letting one failure hide the others.

        What this process's cache holds fresh enough is answered at once; only the rest
        joins the round."""
        found: dict[int, Outcome] = {}
        by_chain: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_chain.setdefault(request.key.chain, []).append(index)
        for chain, indexes in by_chain.items():
            held = self._registry.get(chain).reader.held([requests[i] for i in indexes])
            found.update((indexes[i], reading) for i, reading in held.items())
        pending = [i for i in range(len(requests)) if i not in found]
        if pending:
            outcomes = await self._loader.load(_Lookups([requests[i] for i in pending]))
            found.update(zip(pending, outcomes, strict=True))
        return [found[i] for i in range(len(requests))]

    async def _batch(self, calls: list[_Lookups]) -> list[list[Outcome]]:
        flat = [request for call in calls for request in call.requests]
        outcomes = iter(map(_outcome, await per_chain(flat, _chain_of, self._read)))
        return [[next(outcomes) for _ in call.requests] for call in calls]

    async def _read(self, chain: str, requests: list[BalanceRequest]) -> list[Outcome]:
        reader = self._registry.get(chain).reader
        readings, metas = await reader.balances(requests, self._deadline)
        for meta in metas.values():
            self._tokens.prime(meta)
        return readings


def _chain_of(request: BalanceRequest) -> str:
    return request.key.chain


def _outcome(value: Outcome | BaseException) -> Outcome:
    """Readings and expected errors are values; anything else is a bug and is raised."""
    if isinstance(value, BalanceReading | ChainError):
        return value
    raise value
