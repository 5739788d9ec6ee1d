"""Reading a timeline on to a final block, on a ticket of the process's scan budget (one
scan per timeline at a time is `chains.flight.Flights`, in `Timelines`).

`read_on` is what `Timelines` runs when a scan must reach blocks it has not read: it takes a
`ScanTicket` for the blocks (or `HistoryBusy`), lets the source report what it holds after
each answer (stopping it past `max_events`, or past the budget's events), and gives the
ticket back however the scan ends. A scan that fails raises a copy of its error made here:
the original's traceback holds the source's frames, and in them everything it had read,
which must go as soon as the scan failed, not when the last waiter drops the error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from chains.history.base import HistorySource, too_many_events
from chains.history.budget import ScanBudget, ScanTicket
from chains.history.shared import Scan
from core.errors import ServiceError
from core.models import BalanceKey


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
