"""One chain's live balances: every watched (account, token) re-read once per new block, in one
batched read, whatever the number of subscribers watching it.

For each new head the follower reads the rows that may have moved, all at that block's
number (the provider's batched path: one Multicall3 `aggregate3` per 499 lookups), compares
each with the value its subscribers last got, and offers the changes to their mailboxes:
one read, fanned out. Which rows are read:

- every row, when the head does not follow the last one read (blocks were skipped, a reorg,
  a shared head without its header), after a failure, and every `full_refresh_blocks`;
- otherwise native rows, rows never read, and token rows the header's `logsBloom` does not
  rule out (`chains.live.bloom`: exact, it never skips a moved balance that logged a
  transfer).

A reorg is a head whose parent is not the block last read, or a block number seen before
with another hash (the follower keeps the hashes of the last `KEPT_HASHES` blocks read): the
whole watched set is then read again at the new fork's head, so every value that the
orphaned blocks had changed is pushed again, corrected, with the new block's number.

Failures are values: a chain that cannot be read gives each subscriber one `Failure` per
outage (a row that cannot be read, one per row), the subscribers keep their rows, and the
next read after it is a full one, so they catch up when the node is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from chains.heads import Head
from chains.live.bloom import may_move
from chains.live.mailbox import Change, Failure, Mailbox
from chains.live.newheads import HeadWatch
from chains.live.source import LiveChain
from core.errors import ChainError, TokenCallFailed, TokenMetadataUnavailable
from core.metrics import Metrics
from core.models import BalanceKey, BalanceReading

log = logging.getLogger(__name__)

KEPT_HASHES = 256


@dataclass
class _Row:
    watchers: set[Mailbox] = field(default_factory=set)
    value: BalanceReading | None = None
    failing: ChainError | None = None


class Follower:
    """Follows one chain for the subscribers of its rows (started and stopped by the hub)."""

    def __init__(self, live: LiveChain, metrics: Metrics) -> None:
        self.chain = live.chain
        self._live = live
        self._metrics = metrics
        self._rows: dict[BalanceKey, _Row] = {}
        self._head: Head | None = None
        """The last block read."""
        self._incoming: Head | None = None
        self._new: set[BalanceKey] = set()
        """Rows added since the last read, to read at the current head."""
        self._retry: set[BalanceKey] = set()
        """Rows whose last read failed: read at the next block, whatever the bloom says."""
        self._hashes: dict[int, str] = {}
        self._last_full = -1
        self._dirty = True
        self._outage: ChainError | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def start(self) -> None:
        watch = HeadWatch(
            self.chain,
            self._live.heads,
            self._live.shared,
            interval=self._live.interval,
            ws_urls=self._live.ws_urls,
            on_head=self._offer_head,
            on_failure=self._head_failed,
        )
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(watch.run()), loop.create_task(self._run())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for row in self._rows.values():
            for mailbox in row.watchers:
                mailbox.close()

    def add(self, mailbox: Mailbox, keys: Iterable[BalanceKey]) -> None:
        """Watch `keys` for `mailbox`: rows already known are its snapshot at once, the others
        are read at the current head (one read for every newcomer of the moment)."""
        head = self._head
        joined = False
        for key in keys:
            row = self._rows.setdefault(key, _Row())
            row.watchers.add(mailbox)
            if row.value is not None and head is not None:
                mailbox.offer(Change(row.value, None, head.number, head.timestamp))
            else:
                self._new.add(key)
                joined = True
            if row.failing is not None:
                mailbox.offer(Failure(row.failing, key))
        if self._outage is not None:
            mailbox.offer(Failure(self._outage))
        if joined:
            self._wake.set()
        self._watched()

    def remove(self, mailbox: Mailbox, keys: Iterable[BalanceKey]) -> None:
        for key in keys:
            row = self._rows.get(key)
            if row is not None:
                row.watchers.discard(mailbox)
                if not row.watchers:
                    del self._rows[key]
                    self._retry.discard(key)
        self._watched()

    def _watched(self) -> None:
        self._metrics.live_watched.labels(chain=self.chain).set(len(self._rows))

    def _offer_head(self, head: Head) -> None:
        self._incoming = head
        self._wake.set()

    def _head_failed(self, error: ChainError) -> None:
        if self._outage is None:
            self._outage = error
            self._publish_failure(error, self._all_watchers())
        self._dirty = True

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            head, self._incoming = self._incoming, None
            try:
                if head is not None and self._is_new(head):
                    await self._advance(head)
                elif self._head is not None:
                    await self._read_newcomers()
            except Exception:  # a bug must not stop every subscriber of the chain
                log.exception("%s: the live follower failed on a block", self.chain)
                self._dirty = True

    def _is_new(self, head: Head) -> bool:
        last = self._head
        if last is None or head.number > last.number:
            return True
        known = self._hashes.get(head.number)
        return head.hash is not None and known is not None and known != head.hash  # a reorg

    async def _advance(self, head: Head) -> None:
        last = self._head
        follows = (
            last is not None
            and head.number == last.number + 1
            and head.parent is not None
            and head.parent == last.hash
        )
        full = (
            self._dirty
            or not follows
            or head.bloom is None
            or not self._live.bloom
            or head.number - self._last_full >= self._live.full_refresh_blocks
        )
        if last is not None and not follows and self._reorged(head, last):
            self._metrics.live_reorgs.inc(chain=self.chain)
        retry, self._retry = self._retry, set()
        keys = [
            k for k, row in self._rows.items() if full or k in retry or self._may_move(head, k, row)
        ]
        self._new.clear()
        if await self._read(keys, head):
            self._head = head
            if head.hash is not None:
                self._remember(head)
            if full:
                self._last_full = head.number
                self._dirty = False

    def _remember(self, head: Head) -> None:
        """Keep the hashes of the last `KEPT_HASHES` blocks read (a polling follower skips
        blocks: the oldest goes, whatever its number)."""
        assert head.hash is not None
        self._hashes.pop(head.number, None)  # a reorg's new hash: the newest again
        self._hashes[head.number] = head.hash
        while len(self._hashes) > KEPT_HASHES:
            del self._hashes[next(iter(self._hashes))]

    def _reorged(self, head: Head, last: Head) -> bool:
        known = self._hashes.get(head.number - 1) if head.parent is not None else None
        same_height = self._hashes.get(head.number)
        return (known is not None and known != head.parent) or (
            same_height is not None and same_height != head.hash
        )

    def _may_move(self, head: Head, key: BalanceKey, row: _Row) -> bool:
        if row.value is None or key.token.is_native or head.bloom is None:
            return True
        return may_move(head.bloom, key.token.contract, key.account)

    async def _read_newcomers(self) -> None:
        head = self._head
        keys = [k for k in self._new if (row := self._rows.get(k)) and row.value is None]
        self._new.clear()
        if head is not None and keys:
            await self._read(keys, head)

    async def _read(self, keys: list[BalanceKey], head: Head) -> bool:
        """Read `keys` at `head` and offer what changed; whether the chain answered."""
        if not keys:
            return True
        loop = asyncio.get_running_loop()
        try:
            outcomes = await self._live.read(keys, head.number)
        except ChainError as exc:
            outcomes = [exc.about(**k.labels) for k in keys]
        read = loop.time()
        self._metrics.live_block_reads.inc(chain=self.chain)
        self._metrics.live_lookups_read.inc(len(keys), chain=self.chain)
        readings = [o for o in outcomes if isinstance(o, BalanceReading)]
        failures = [
            (k, o) for k, o in zip(keys, outcomes, strict=True) if isinstance(o, ChainError)
        ]
        if readings:
            self._outage = None  # the chain answers again
        for reading in readings:
            self._settle(reading, head, read)
        self._fail(failures)
        await self._live.store.remember(readings, ())
        return bool(readings) or not failures

    def _settle(self, reading: BalanceReading, head: Head, read: float) -> None:
        row = self._rows.get(reading.key)
        if row is None:  # unwatched while it was read
            return
        row.failing = None
        previous = row.value
        row.value = reading
        if previous is not None and previous.raw_amount == reading.raw_amount:
            return
        before = None if previous is None else previous.raw_amount
        change = Change(reading, before, head.number, head.timestamp, read)
        for mailbox in row.watchers:
            mailbox.offer(change)

    def _fail(self, failures: list[tuple[BalanceKey, ChainError]]) -> None:
        """One event per outage of the chain (then every row is read again), one per row
        that cannot be read (read again at the next block)."""
        rounds = [e for _, e in failures if _is_round_failure(e)]
        if rounds:
            self._dirty = True
            if self._outage is None:
                self._outage = type(rounds[0])(rounds[0].message, chain=self.chain)
                self._publish_failure(self._outage, self._all_watchers())
        for key, error in failures:
            row = self._rows.get(key)
            if row is None:
                continue
            self._retry.add(key)
            if _is_round_failure(error) or row.failing is not None:
                continue
            row.failing = error
            for mailbox in row.watchers:
                mailbox.offer(Failure(error, key))

    def _publish_failure(self, error: ChainError, mailboxes: Iterable[Mailbox]) -> None:
        failure = Failure(error.about(chain=self.chain))
        for mailbox in mailboxes:
            mailbox.offer(failure)

    def _all_watchers(self) -> set[Mailbox]:
        return {m for row in self._rows.values() for m in row.watchers}


def _is_round_failure(error: ChainError) -> bool:
    """A failure of the chain's read (not one token's answer)."""
    return not isinstance(error, TokenCallFailed | TokenMetadataUnavailable)
