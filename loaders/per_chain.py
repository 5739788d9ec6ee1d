"""Fan a loader's batch out to one reader call per chain, then put answers back in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

_K = TypeVar("_K")
_V = TypeVar("_V")


async def per_chain(
    keys: Sequence[_K],
    chain_of: Callable[[_K], str],
    read: Callable[[str, list[_K]], Awaitable[Sequence[_V]]],
) -> list[_V | BaseException]:
    """`read(chain, keys of that chain)` for every chain concurrently; answers in key order.

    A chain whose read raised gives that exception for each of its keys, so a bug met on one
    chain does not take the others down.
    """
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(chain_of(key), []).append(index)
    answers = await asyncio.gather(
        *(read(chain, [keys[i] for i in indexes]) for chain, indexes in groups.items()),
        return_exceptions=True,
    )
    outcomes: dict[int, _V | BaseException] = {}
    for indexes, answer in zip(groups.values(), answers, strict=True):
        if isinstance(answer, BaseException):
            outcomes.update(dict.fromkeys(indexes, answer))
        else:
            outcomes.update(zip(indexes, answer, strict=True))
    return [outcomes[i] for i in range(len(keys))]
