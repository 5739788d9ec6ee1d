"""Reads in flight: one future per lookup, shared by every concurrent caller who wants it.

A caller `claim`s futures for its keys, joining those already in flight and creating (and
registering) the rest as its own to read; whoever reads `resolve`s or `fail`s them; callers
`wait_for` them until their deadline without ever cancelling them (others may share them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

from core.errors import ChainError

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


async def wait_for(
    waits: Mapping[_K, asyncio.Future[_V]], deadline: float | None, late: ChainError
) -> dict[_K, _V | ChainError]:
    """Each future's value, or `late` for those not done by `deadline`. `asyncio.wait` never
    cancels what it waits on (other requests may share these futures), whether it times out
    or its own task is cancelled. Exceptions the futures hold are raised, as before."""
    if not waits:
        return {}
    timeout = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
    pending = set(waits.values())
    if any(not f.done() for f in pending):
        await asyncio.wait(pending, timeout=timeout)
    return {key: (f.result() if f.done() else late) for key, f in waits.items()}


def claim(
    in_flight: dict[_K, asyncio.Future[_V]], keys: Sequence[_K]
) -> tuple[dict[_K, asyncio.Future[_V]], dict[_K, asyncio.Future[_V]]]:
    """Futures for `keys`: joined from `in_flight`, or created (and registered) as ours."""
    waits: dict[_K, asyncio.Future[_V]] = {}
    mine: dict[_K, asyncio.Future[_V]] = {}
    loop = asyncio.get_running_loop()
    for key in keys:
        if key in waits:
            continue
        future = in_flight.get(key)
        if future is None:
            future = loop.create_future()
            future.add_done_callback(_mark_retrieved)
            in_flight[key] = mine[key] = future
        waits[key] = future
    return waits, mine


def resolve(futures: Mapping[_K, asyncio.Future[_V]], values: Sequence[_V]) -> None:
    for future, value in zip(futures.values(), values, strict=True):
        if not future.done():
            future.set_result(value)


def fail(futures: Mapping[_K, asyncio.Future[_V]], exc: Exception) -> None:
    for future in futures.values():
        if not future.done():
            future.set_exception(exc)


def _mark_retrieved(future: asyncio.Future[Any]) -> None:
    """Fetch failures reach every waiter; don't also warn about them at garbage collection."""
    if not future.cancelled():
        future.exception()
