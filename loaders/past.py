"""Per-request loader of balances at a past block: one read per (chain, block) per tick.

Every field of a request that reads at the same block of a chain (aliases, `balances` and
`portfolio` side by side) joins one `Timelines.balances_at`, so one Multicall3 round.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiodataloader import DataLoader

from chains.registry import ChainRegistry
from core.errors import ServiceError, UpstreamTimeout
from core.models import BalanceKey, BalanceReading

Outcome = BalanceReading | ServiceError


@dataclass(frozen=True)
class PastRequest:
    key: BalanceKey
    block: int


class PastBalanceLoader:
    """Loads `BalanceReading`s at a block; a failed lookup is its `ServiceError`."""

    def __init__(self, registry: ChainRegistry, deadline: float | None = None) -> None:
        self._registry = registry
        self._deadline = deadline
        self._loader: DataLoader[PastRequest, Outcome] = DataLoader(self._batch)

    async def load_many(self, requests: list[PastRequest]) -> list[Outcome]:
        """Each request's reading or error: one pair that cannot be read (a token not yet
        deployed at that block) never takes the others with it."""
        outcomes = await asyncio.gather(
            *(self._loader.load(r) for r in requests), return_exceptions=True
        )
        for outcome in outcomes:
            if not isinstance(outcome, BalanceReading | ServiceError):
                raise outcome
        return [o for o in outcomes if isinstance(o, BalanceReading | ServiceError)]

    async def _batch(self, requests: list[PastRequest]) -> list[Outcome]:
        groups: dict[tuple[str, int], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.key.chain, request.block), []).append(index)
        answers = await asyncio.gather(
            *(
                self._read(chain, block, [requests[i].key for i in indexes])
                for (chain, block), indexes in groups.items()
            )
        )
        outcomes: dict[int, Outcome] = {}
        for indexes, answer in zip(groups.values(), answers, strict=True):
            outcomes.update(zip(indexes, answer, strict=True))
        return [outcomes[i] for i in range(len(requests))]

    async def _read(self, chain: str, block: int, keys: list[BalanceKey]) -> list[Outcome]:
        history = self._registry.get(chain).history
        try:
            async with asyncio.timeout_at(self._deadline):
                return await history.balances_at(keys, block)
        except ServiceError as exc:
            return [exc.about(**k.labels) for k in keys]
        except TimeoutError:
            late = UpstreamTimeout(
                f"{chain} did not answer for block {block} within the request's deadline",
                chain=chain,
            )
            return [late.about(**k.labels) for k in keys]
