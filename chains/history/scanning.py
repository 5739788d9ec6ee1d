"""Reading a timeline on to a final block, on a ticket of the process's scan budget, and
one scan per timeline at a time (`Flights`).

`read_on` is what `Timelines` runs when a scan must reach blocks it has not read: it takes a
`ScanTicket` for the blocks (or `HistoryBusy`), lets the source report what it holds after
each answer (stopping it past `max_events`, or past the budget's events), and gives the
ticket back however the scan ends. A scan that fails raises a copy of its error made here:
the original's traceback holds the source's frames, and in them everything it had read,
which must go as soon as the scan failed, not when the last waiter drops the error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

from chains.history.base import HistorySource, too_many_events
from chains.history.budget import ScanBudget, ScanTicket
from chains.history.shared import Scan
from core.errors import ServiceError
from core.models import BalanceKey

_R = TypeVar("_R")


async def read_on(
    source: HistorySource,
    key: BalanceKey,
    scan: Scan,
    upto: int,
    budget: ScanBudget,
    max_events: int,
) -> Scan:
    """`scan` read on through block `upto`."""
    with budget.begin(upto - scan.through) as ticket:
        read = await _detached(_read(source, key, scan, upto, ticket, max_events))
    if isinstance(read, ServiceError):
        raise read
    return read


async def _read(
    source: HistorySource,
    key: BalanceKey,
    scan: Scan,
    upto: int,
    ticket: ScanTicket,
    max_events: int,
) -> Scan:
    held = len(scan.movements)

    def meter(events: int) -> None:
        if held + events > max_events:
            raise too_many_events(max_events, key)
        ticket.read(events)

    found = await source.movements(
        key.account, key.token, scan.through + 1, upto, meter=_Meter(meter)
    )
    meter(len(found))  # a source that never reported holds it all now
    return Scan(scan.start, upto, scan.opening, scan.movements + tuple(found))


async def _detached(read: Coroutine[Any, Any, Scan]) -> Scan | ServiceError:
    """The scan, or its failure as a copy without a traceback."""
    try:
        return await read
    except ServiceError as exc:
        return exc.about()


class _Meter:
    """A `ScanMeter` of a function."""

    def __init__(self, read: Callable[[int], None]) -> None:
        self.read = read


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
