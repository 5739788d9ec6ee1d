"""One chain's history service: the head, the block at an instant, balances at a block and
event timelines, each read once and kept while it cannot change.

A block at or below `head - finality_depth` is final: what is read about it (a header's
time, a balance at it, the movements up to it, the block an instant resolves to) is kept for
`retention` and never read again. Only the blocks after the last final block scanned are
asked for again, and what was read about those (the head itself, its headers, the tail of a
timeline) is reused for a few seconds, so a repeated call costs at most the head.

A timeline is scanned from its token's first block (the contract's deployment) with an
opening balance of 0, so its balances need no archive node. Given a `fromBlock` after that,
and a family that reads state at a block, it starts there instead with the balance at the
block before as its opening (one read at a past block).

Everything kept is bounded: entries per map, and movements across all timelines (`Scans`,
shared by every chain of the process). A scan is priced before any I/O (`quote`: the
requests it may need, from the head kept for `HEAD_TTL` and what is already final here or
in the shared cache), runs on a ticket of the process's `ScanBudget`, and gives its memory
back however it ends. A timeline found longer than `max_events` keeps that verdict: asking
again (to any block at or after the one it was found at) is refused without a read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chains.cache.lru import Lru
from chains.flight import Flights
from chains.heads import SharedHeads
from chains.history.base import HistorySource, Movement, too_many_events
from chains.history.blocks import blocks_at, search_price
from chains.history.budget import ScanBudget, scan_price
from chains.history.kept import Scans, TooLong
from chains.history.scanning import read_on
from chains.history.shared import Scan, SharedHistory
from core.clock import Clock, utcnow
from core.errors import BadUserInput, BeforeFirstBlock, CostLimitExceeded, ServiceError
from core.models import BalanceKey, BalanceReading, TokenRef

COLD_SCAN = 1
"""Requests a scan from a first block not known yet is priced at (see `quote`)."""
HEAD_TTL = 2.0
"""Seconds the head is reused: a burst of requests costs one `head` read."""
RECENT_TTL = 12.0
"""Seconds what was read about blocks above the final one is reused (keyed by the head)."""
RETENTION = 30 * 86_400.0
"""Seconds what is final is kept (it never changes; only memory bounds it)."""
_ENTRIES = 16_384


@dataclass(frozen=True)
class Event:
    """A movement with the balance right after it."""

    movement: Movement
    balance: int


class Timelines:
    """Cached history of one chain (`HistorySource` does the reading)."""

    def __init__(
        self,
        source: HistorySource,
        *,
        finality_depth: int,
        max_events: int,
        per_request: int = 10_000,
        budget: ScanBudget | None = None,
        kept: Scans | None = None,
        shared: SharedHistory | None = None,
        heads: SharedHeads | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Clock = utcnow,
    ) -> None:
        self.chain = source.chain
        self._source = source
        self._shared = shared
        self._heads = heads
        self._depth = finality_depth
        self._max_events = max_events
        self._per_request = per_request
        """Blocks a scan request is priced at (the chain's `log_range`)."""
        self._budget = budget or ScanBudget(scans=4, blocks=10**9, events=4 * max_events)
        self._clock = clock
        self._wall = wall
        self._head: tuple[float, int] | None = None
        self._head_lock = asyncio.Lock()
        self._times: Lru[int, int] = Lru(_ENTRIES * 8, clock)
        self._instants: Lru[int, int] = Lru(_ENTRIES, clock)
        self._past: Lru[tuple[BalanceKey, int], BalanceReading] = Lru(_ENTRIES * 4, clock)
        self._firsts: Lru[TokenRef, int] = Lru(_ENTRIES, clock)
        self._tails: Lru[tuple[BalanceKey, int, int], tuple[Movement, ...]] = Lru(1024, clock)
        self._scans = kept or Scans(2 * max_events)
        self._too_long = TooLong(_ENTRIES, RETENTION, clock)
        self._flights: Flights[Scan] = Flights()
        self._searches: Flights[int] = Flights()
        """One deployment search per token at a time, however many timelines wait for it."""

    async def head(self) -> int:
        """The newest block, reused for `HEAD_TTL` seconds; taken from the chain's shared head
        (another process's, or a live follower's) when that is fresh."""
        async with self._head_lock:  # one read for a burst, not one each
            known = self._head
            if known is None or self._clock() - known[0] >= HEAD_TTL:
                heads = self._heads
                number = await (heads.number(self._source.head) if heads else self._source.head())
                known = (self._clock(), number)
                self._head = known
        return known[1]

    async def _head_within(self, wait: float | None) -> int | None:
        try:
            return await asyncio.wait_for(self.head(), wait)
        except TimeoutError:  # the next reader asks again (no task is left behind a loop)
            return None if self._head is None else self._head[1]

    async def final(self) -> int:
        """The newest final block (-1 while the chain is shorter than its finality depth)."""
        return await self.head() - self._depth

    async def check(self, block: int, what: str = "atBlock") -> int:
        """`block` itself, or `BadUserInput` when the chain has not reached it."""
        head = await self.head()
        if block < 0 or block > head:
            raise BadUserInput(
                f"{what} {block} is beyond {self.chain}'s head ({head})"
                if block > head
                else f"{what} must be zero or more, got {block}",
                chain=self.chain,
            )
        return block

    async def times(self, blocks: Sequence[int]) -> dict[int, int]:
        """Each block's unix timestamp (blocks at most the head)."""
        found: dict[int, int] = {}
        for block in blocks:
            stamp = self._times.get(block)
            if stamp is not None:
                found[block] = stamp
        missing = sorted({b for b in blocks if b not in found})
        if missing:
            final = await self.final()
            for block, stamp in (await self._source.block_times(missing)).items():
                self._times.put(block, stamp, RETENTION if block <= final else RECENT_TTL)
                found[block] = stamp
        return found

    async def blocks_at(self, instants: Sequence[int]) -> dict[int, int | ServiceError]:
        """Each instant's block: the last at or before it, or `BeforeFirstBlock`."""
        found: dict[int, int | ServiceError] = {}
        open_: list[int] = []
        for instant in dict.fromkeys(instants):
            block = self._instants.get(instant)
            if block is None:
                open_.append(instant)
            else:
                found[instant] = block
        if open_ and self._shared is not None:
            kept = await self._shared.numbers("at", [str(i) for i in open_])
            for instant in open_:
                if str(instant) in kept:
                    found[instant] = kept[str(instant)]
                    self._instants.put(instant, kept[str(instant)], RETENTION)
            open_ = [i for i in open_ if i not in found]
        if not open_:
            return found
        head = await self.head()
        final = head - self._depth
        keep: dict[str, int] = {}
        for instant, block in (await blocks_at(open_, head, self.times)).items():
            if block is None:
                found[instant] = BeforeFirstBlock(
                    f"{self.chain} has no block at or before that time", chain=self.chain
                )
                continue
            if block + 1 <= final:  # the next block is final too: the answer cannot change
                self._instants.put(instant, block, RETENTION)
                keep[str(instant)] = block
            found[instant] = block
        if self._shared is not None:
            await self._shared.keep_numbers("at", keep)
        return found

    async def balances_at(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ServiceError]:
        """Each balance at the end of `block`; final ones are read once."""
        results: dict[int, BalanceReading | ServiceError] = {}
        missing: list[int] = []
        for index, key in enumerate(keys):
            known = self._past.get((key, block))
            if known is not None:
                results[index] = known
            else:
                missing.append(index)
        if missing:
            final = await self.final()
            wanted = [keys[i] for i in missing]
            read = await self._source.balances_at(wanted, block)
            outcomes = read if read is not None else await self._summed(wanted, block)
            for index, outcome in zip(missing, outcomes, strict=True):
                if isinstance(outcome, BalanceReading) and block <= final:
                    self._past.put((keys[index], block), outcome, RETENTION)
                results[index] = outcome
        return [results[i] for i in range(len(keys))]

    async def timeline(self, key: BalanceKey, start: int | None, end: int | None) -> list[Event]:
        """Every event of `key` in blocks `start`..`end` (default: all, to the head),
        oldest first, each with the balance right after it."""
        head = await self.head()
        end = head if end is None else await self.check(end, "toBlock")
        if start is not None and start > end:
            raise BadUserInput(f"fromBlock {start} is after toBlock {end}", chain=self.chain)
        first = await self.first_block(key.token)
        origin = first if start is None or start <= first else start
        if self._too_long.reaches((key, origin), end):
            raise too_many_events(self._max_events, key)
        scan = await self._flights.share((key, origin), lambda: self._scan(key, origin, first, end))
        movements = [m for m in scan.movements if m.block_number <= end]
        if end > scan.through:
            movements += await self._tail(key, max(scan.through, origin - 1) + 1, end, head)
        balance, events = scan.opening, []
        for movement in movements:
            balance += movement.delta
            events.append(Event(movement, balance))
        return [e for e in events if start is None or e.movement.block_number >= start]

    async def quote(
        self, key: BalanceKey, start: int | None, end: int | None, *, wait: float | None = None
    ) -> int:
        """Upstream requests `timeline(key, start, end)` may need, known before it reads
        anything but the head (kept for `HEAD_TTL`): the deployment search when the token's
        first block is not known yet, one request per `per_request` final blocks not scanned
        yet, and one for what is newer (the unfinal tail, a page's headers). A scan from an
        unknown first block cannot be sized: it is priced `COLD_SCAN` requests, and the
        caller prices it again once the search has found the block (`first_known`). Waiting
        at most `wait` seconds for the head, then taking the last one known: a chain whose
        head was never read in time is priced 1, and its history fails anyway."""
        head = await self._head_within(wait)
        if head is None:
            return 1
        end = head if end is None else min(end, head)
        first = await self._known_first(key.token)
        if first is None and start is None:  # the scan's size is known once the search is done
            return search_price(head) + COLD_SCAN + 1
        search = search_price(head) if first is None else 0
        origin = first or 0
        origin = origin if start is None or start <= origin else start
        if self._too_long.reaches((key, origin), end):
            return 1
        scan = await self._known_scan(key, origin)
        through = origin - 1 if scan is None else scan.through
        return search + scan_price(min(end, head - self._depth) - through, self._per_request) + 1

    async def first_known(self, token: TokenRef) -> bool:
        """Whether the token's first block is known here or in the shared cache."""
        return await self._known_first(token) is not None

    async def first_block(self, token: TokenRef) -> int:
        known = await self._known_first(token)
        if known is None:
            known = await self._searches.share(token, lambda: self._source.first_block(token))
            if self._shared is not None:
                await self._shared.keep_numbers("first", {str(token): known})
        self._firsts.put(token, known, RETENTION)
        return known

    async def _known_first(self, token: TokenRef) -> int | None:
        """The token's first block, when this process or the shared cache knows it."""
        known = self._firsts.get(token)
        if known is None and self._shared is not None:
            known = (await self._shared.numbers("first", [str(token)])).get(str(token))
            if known is not None:
                self._firsts.put(token, known, RETENTION)
        return known

    async def _known_scan(self, key: BalanceKey, origin: int) -> Scan | None:
        """What is final of a timeline and already read, here or in the shared cache."""
        scan = self._scans.get((key, origin))
        if scan is None and self._shared is not None:
            scan = await self._shared.scan(key, origin)
            if scan is not None:
                self._scans.put((key, origin), scan)
        return scan

    async def _scan(self, key: BalanceKey, origin: int, first: int, end: int) -> Scan:
        upto = min(end, await self.final())
        scan = await self._known_scan(key, origin)
        if scan is None:
            opening = 0 if origin == first else await self._opening(key, origin)
            scan = Scan(origin, origin - 1, opening, ())
        if upto > scan.through:
            try:
                scan = await read_on(self._source, key, scan, upto, self._budget, self._max_events)
            except CostLimitExceeded:  # too long by `upto`: and for every window reaching it
                self._too_long.found((key, origin), upto)
                raise
            if self._shared is not None:
                await self._shared.keep_scan(key, scan)
        self._scans.put((key, origin), scan)
        return scan

    async def _opening(self, key: BalanceKey, origin: int) -> int:
        """The balance at the end of the block before `origin`."""
        (outcome,) = await self.balances_at([key], origin - 1)
        if isinstance(outcome, ServiceError):
            raise outcome
        return outcome.raw_amount

    async def _tail(self, key: BalanceKey, start: int, end: int, head: int) -> list[Movement]:
        """Movements after the final block: reused while the head is the same."""
        known = self._tails.get((key, start, head))
        if known is None:
            known = tuple(await self._source.movements(key.account, key.token, start, end))
            self._tails.put((key, start, head), known, RECENT_TTL)
        return [m for m in known if m.block_number <= end]

    async def _summed(
        self, keys: Sequence[BalanceKey], block: int
    ) -> list[BalanceReading | ServiceError]:
        """Balances at `block` as the sum of every movement up to it (Bitcoin)."""
        outcomes: list[BalanceReading | ServiceError] = []
        for key in keys:
            try:
                events = await self.timeline(key, None, block)
            except ServiceError as exc:  # node trouble, or the scan budget spent
                outcomes.append(exc.about(**key.labels))
                continue
            balance = events[-1].balance if events else 0
            outcomes.append(BalanceReading(key, balance, block, self._wall()))
        return outcomes
