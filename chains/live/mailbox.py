"""What a follower hands one subscription: changes and failures, newest value per row.

A follower publishes to every watcher's `Mailbox` without ever waiting on it (`offer` is
synchronous), so a subscriber that does not read delays nobody. Undelivered values collapse:
a newer value of a row replaces the one waiting, keeping the `previous` amount the subscriber
last got (and a row that went back to that amount before it was taken drops out). Each value
replaced unread counts; past `max_pending` of them since the mailbox was last empty, the
subscriber is behind for good: `overflowed` is set, and `take` raises `SlowConsumer`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace

from core.errors import ChainError
from core.models import BalanceKey, BalanceReading


@dataclass(frozen=True)
class Change:
    """A row's value as of `block`. `previous` is the raw amount the subscriber had before
    (`None`: this is its first value of the row, part of the snapshot)."""

    reading: BalanceReading
    previous: int | None
    block: int
    timestamp: int | None = None
    """The block's unix time, when the follower knows it (push lag is measured from it)."""
    read: float = 0.0
    """When the follower had the value (event-loop clock): lag after the read."""

    @property
    def key(self) -> BalanceKey:
        return self.reading.key


@dataclass(frozen=True)
class Failure:
    """Reading failed: for one row (`key`), or for the whole chain (`key` None)."""

    error: ChainError
    key: BalanceKey | None = None


Event = Change | Failure


class SlowConsumer(Exception):
    """The subscriber left more than `max_pending` values unread."""


class Mailbox:
    """One subscription's undelivered events, in the order rows first waited."""

    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self.overflowed = asyncio.Event()
        self._pending: OrderedDict[Hashable, Event] = OrderedDict()
        self._ready = asyncio.Event()
        self._collapsed = 0
        self._closed = False

    def __len__(self) -> int:
        return len(self._pending)

    def offer(self, event: Event) -> None:
        """Queue `event`, collapsing it into a waiting value of the same row."""
        if self._closed or self.overflowed.is_set():
            return
        if isinstance(event, Failure):
            self._pending[("failure", event.error.chain, event.key)] = event
        else:
            self._offer_change(event)
        if self._pending:
            self._ready.set()

    def _offer_change(self, change: Change) -> None:
        waiting = self._pending.get(change.key)
        if not isinstance(waiting, Change):
            self._pending[change.key] = change
            return
        self._collapsed += 1
        if self._collapsed > self.max_pending:
            self.overflowed.set()
            self._ready.set()
            return
        merged = replace(change, previous=waiting.previous)
        if merged.previous is not None and merged.previous == merged.reading.raw_amount:
            del self._pending[change.key]  # back where the subscriber saw it: no change
        else:
            self._pending[change.key] = merged

    async def take(self) -> list[Event]:
        """Every waiting event (at least one), oldest row first; `[]` once closed."""
        while not self._pending:
            if self.overflowed.is_set():
                raise SlowConsumer(f"more than {self.max_pending} values left unread")
            if self._closed:
                return []
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed.is_set():
            raise SlowConsumer(f"more than {self.max_pending} values left unread")
        events = list(self._pending.values())
        self._pending.clear()
        self._collapsed = 0
        return events

    def close(self) -> None:
        """No more events (the follower stopped): `take` returns what waits, then `[]`."""
        self._closed = True
        self._ready.set()
