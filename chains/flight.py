"""Reads in flight: one future per lookup, shared by every concurrent caller who wants it.

A caller `claim`s futures for its keys, joining those already in flight and creating (and
registering) the rest as its own to read; whoever reads `resolve`s or `fail`s them; callers
`wait_for` them until their deadline without ever cancelling them (others may share them).

`Flights` is the same idea for one whole read per key run as a task of its own (a
timeline's scan, a token's deployment search): a caller that stops waiting leaves it to
finish for the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from core.errors import ChainError

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_R = TypeVar("_R")


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


class Flights(Generic[_R]):
    """One read per key at a time (a timeline's scan, a token's deployment search):
    concurrent callers share it, and a caller that stops waiting (its deadline) leaves the
    read to finish for the next one."""

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task[_R]] = {}

    async def share(self, key: Hashable, read: Callable[[], Coroutine[Any, Any, _R]]) -> _R:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(read())
            self._tasks[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task)

    def _landed(self, key: Hashable, task: asyncio.Task[_R]) -> None:
        self._tasks.pop(key, None)
        if not task.cancelled():
            task.exception()  # every waiter got it; don't warn again at collection
