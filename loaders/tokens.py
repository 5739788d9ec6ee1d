"""Per-request token metadata loader: one batch per chain, listed tokens answered locally."""

from __future__ import annotations

import asyncio
from typing import cast

from aiodataloader import DataLoader

from chains.registry import ChainRegistry
from core.errors import ChainError
from core.models import TokenMeta, TokenRef
from loaders.per_chain import per_chain

TokenKey = tuple[str, TokenRef]
"""(chain id, canonical token)."""


class TokenLoader:
    """Loads `TokenMeta` by (chain, address); a failure raises its `ChainError`."""

    def __init__(self, registry: ChainRegistry, deadline: float | None = None) -> None:
        self._registry = registry
        self._deadline = deadline
        self._loader: DataLoader[TokenKey, TokenMeta] = DataLoader(self._batch)

    async def load(self, chain: str, token: TokenRef) -> TokenMeta:
        listed = self._registry.get(chain).reader.listed_token(token)
        return listed if listed is not None else await self._loader.load((chain, token))

    async def load_many(self, keys: list[TokenKey]) -> list[TokenMeta | ChainError]:
        """Each token's metadata or error; listed tokens cost no await at all."""
        found: dict[int, TokenMeta | ChainError] = {}
        pending: dict[int, asyncio.Future[TokenMeta]] = {}
        readers = {chain: self._registry.get(chain).reader for chain in {c for c, _ in keys}}
        for index, (chain, token) in enumerate(keys):
            listed = readers[chain].listed_token(token)
            if listed is not None:
                found[index] = listed
            else:
                pending[index] = self._loader.load((chain, token))
        if pending:
            outcomes = await asyncio.gather(*pending.values(), return_exceptions=True)
            for index, outcome in zip(pending, outcomes, strict=True):
                if not isinstance(outcome, TokenMeta | ChainError):
                    raise outcome
                found[index] = outcome
        return [found[i] for i in range(len(keys))]

    def prime(self, meta: TokenMeta) -> None:
        """Remember metadata learned by a balance read, so resolving it costs nothing."""
        self._loader.prime((meta.chain, meta.token), meta)

    async def _batch(self, keys: list[TokenKey]) -> list[TokenMeta]:
        outcomes = await per_chain(keys, lambda key: key[0], self._read)
        # aiodataloader raises an Exception value at its key's `load`, which is what we want.
        return cast(list[TokenMeta], outcomes)

    async def _read(self, chain: str, keys: list[TokenKey]) -> list[TokenMeta | ChainError]:
        reader = self._registry.get(chain).reader
        return await reader.tokens([token for _, token in keys], self._deadline)
