"""What scanning the past may cost: priced before any I/O, bounded per process while it runs.

Scans are the service's heaviest upstream work: a timeline's `eth_getLogs` over every block
since a token's deployment (and, for discovery, address-less logs over final ranges). Three
pieces keep them in bounds, each usable by any kind of scan:

    scan_price(blocks, per_request)   upstream requests a scan of `blocks` blocks may need,
                                      known before I/O: what a request is charged for it
    ScanBudget.begin(blocks)          a `ScanTicket` for a new scan, or `HistoryBusy`
                                      (retryable) when this process is already scanning as
                                      many scans, blocks or events as it may
    ScanMeter.read(events)            called by a source after each answer with the events it
                                      holds: raises to stop a scan that outgrew its share

The budget is per process and shared by every chain, so one caller's scans cannot take a
worker's memory or every upstream slot; its events bound the memory scans hold while they
run (`EVENT_BYTES` each, measured), and a scan's ticket gives its share back when it ends,
however it ends.
"""

from __future__ import annotations

from typing import Protocol

from core.errors import HistoryBusy

EVENT_BYTES = 400
"""Bytes one movement held by a scan takes (a `Movement`, its hash, its numbers and its
slot; tracemalloc measures ~320): events budgets are memory budgets."""


def scan_price(blocks: int, per_request: int) -> int:
    """Requests a scan of `blocks` blocks may need at `per_request` blocks a request."""
    return 0 if blocks <= 0 else -(-blocks // per_request)


class ScanMeter(Protocol):
    """Told by a source after each upstream answer how many events its scan now holds; raises
    (a `ServiceError`) to stop the scan there."""

    def read(self, events: int) -> None: ...


class Unmetered:
    """A meter that never stops a scan (a source used on its own, in tests)."""

    def read(self, events: int) -> None:
        """Nothing to check."""


UNMETERED = Unmetered()


class ScanTicket:
    """One running scan's share of the budget, given back by `close` (a context manager)."""

    def __init__(self, budget: ScanBudget, blocks: int) -> None:
        self._budget = budget
        self.blocks = blocks
        self.events = 0
        self._open = True

    def read(self, events: int) -> None:
        grown = events - self.events
        if grown > 0:
            self._budget.hold(grown)
            self.events = events

    def close(self) -> None:
        if self._open:
            self._open = False
            self._budget.release(self)

    def __enter__(self) -> ScanTicket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ScanBudget:
    """At most `scans` scans at once in this process, covering at most `blocks` blocks and
    holding at most `events` events between them."""

    def __init__(self, *, scans: int, blocks: int, events: int) -> None:
        self._limits = (scans, blocks, events)
        self.scans = 0
        self.blocks = 0
        self.events = 0

    def begin(self, blocks: int) -> ScanTicket:
        """A ticket for a scan of `blocks` blocks, or `HistoryBusy` when it does not fit."""
        scans, most_blocks, _ = self._limits
        if self.scans >= scans:
            raise _busy(f"{scans} history scans are running")
        if self.scans and self.blocks + blocks > most_blocks:  # one alone always may
            raise _busy(f"the history scans running cover {self.blocks:,} blocks")
        self.scans += 1
        self.blocks += blocks
        return ScanTicket(self, blocks)

    def hold(self, events: int) -> None:
        if self.events + events > self._limits[2]:
            raise _busy(f"the history scans running hold {self.events:,} events")
        self.events += events

    def release(self, ticket: ScanTicket) -> None:
        self.scans -= 1
        self.blocks -= ticket.blocks
        self.events -= ticket.events


def _busy(why: str) -> HistoryBusy:
    return HistoryBusy(f"this service is scanning all the history it may ({why}); retry shortly")
