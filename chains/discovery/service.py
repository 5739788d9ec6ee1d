"""One chain's discovery: which tokens an account holds, from the sources configured, in order.

A range source (`logs`) is read the way history is: blocks at or below `head -
finality_depth` are final, so what was scanned of them is kept (in this process, and shared
through Redis) and never asked for again; a call asks only for blocks not yet covered, and
for the few blocks above the final one (kept for a few seconds, keyed by the head).

A cold account's scan runs in a background task, one per account, under a per-process
`BackgroundScans`. The caller waits for it until its own deadline at most, then answers with what
was found so far and a `DiscoveryIncomplete` naming the blocks covered; the scan goes on
(for at most `RUN_SECONDS` a run) and keeps its progress after every chunk, so a later call
finds the rest. An indexer source answers the whole set in one call, kept for `INDEXED_TTL`.

A source that fails gives way to the next; its error is reported only when every source
failed, beside whatever was found.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from chains.cache.lru import Lru
from chains.discovery.base import Chunk, IndexerSource, RangeSource, Seen, merge
from chains.discovery.coverage import Coverage, Coverages, most_recent, ranked
from chains.discovery.shared import SharedDiscovery
from core.errors import (
    ChainError,
    DiscoveryIncomplete,
    DiscoveryTruncated,
    ServiceError,
    UpstreamError,
)
from core.models import TokenRef

log = logging.getLogger(__name__)

RUN_SECONDS = 120.0
"""The longest one background run scans; the next call starts another where it stopped."""
SHARE_EVERY = 5.0
"""Seconds between writes of a running scan's progress to the shared cache."""
INDEXED_TTL = 60.0
TAIL_TTL = 12.0
TOKEN_BUDGET = 100_000
"""Tokens kept across every account's coverage in one process (about 25 MB, measured)."""


class BackgroundScans:
    """At most `limit` background scans at once in this process, whatever the chain: a flood
    of cold accounts is answered with what is known, not with a thousand scans."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    def take(self) -> bool:
        if self.running >= self.limit:
            return False
        self.running += 1
        return True

    def give_back(self) -> None:
        self.running -= 1


@dataclass(frozen=True)
class Status:
    """How far discovery got on one chain for one account."""

    chain: str
    sources: tuple[str, ...]
    """The configured sources, in order."""
    source: str | None
    """The source that answered (`None`: none did)."""
    scanned_from: int | None
    scanned_to: int | None
    """The blocks a range source has covered, tail included (`None` for an indexer, or
    before anything was scanned)."""
    complete: bool
    token_count: int


@dataclass(frozen=True)
class Discovered:
    """The tokens found (most recently active first), how far discovery got, and the errors
    to report beside the rows."""

    tokens: tuple[TokenRef, ...]
    status: Status
    errors: tuple[ServiceError, ...] = ()


Head = Callable[[], Awaitable[int]]


class Discovery:
    """Discovery on one chain (`sources` tried in order)."""

    def __init__(
        self,
        chain: str,
        sources: Sequence[RangeSource | IndexerSource],
        *,
        head: Head,
        finality_depth: int,
        from_block: int,
        max_tokens: int,
        budget: BackgroundScans,
        shared: SharedDiscovery | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain = chain
        self.sources = tuple(s.name for s in sources)
        self._sources = list(sources)
        self._head = head
        self._depth = finality_depth
        self._from_block = from_block
        """The oldest block to scan, or (negative) how far below the head to start."""
        self._max = self.max_tokens = max_tokens
        self._budget = budget
        self._shared = shared
        self._clock = clock
        self._coverages = Coverages(TOKEN_BUDGET)
        self._indexed: Lru[tuple[str, str], Seen] = Lru(4096, clock)
        self._tails: Lru[tuple[str, str, int], Seen] = Lru(4096, clock)
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._indexed_answers = 0

    @property
    def generation(self) -> int:
        """Changes whenever `known` may answer differently for some account (an indexer's
        answer expiring aside: that only makes a kept price a little high, for a while)."""
        return self._coverages.generation + self._indexed_answers

    def known(self, account: str) -> set[TokenRef]:
        """Tokens this process already found for `account` (the cost model prices them
        before any I/O; a first, cold discovery prices none)."""
        coverage = self._coverages.get(account)
        found = set() if coverage is None else set(coverage.seen)
        for name in self.sources:
            found |= set(self._indexed.get((name, account)) or ())
        return found

    async def discover(
        self, account: str, wait_until: float | None = None, *, wait_for_scan: bool = True
    ) -> Discovered:
        """The tokens `account` holds or held, as far as the sources can tell by
        `wait_until` (event loop time; `None`: wait for the whole answer). Without
        `wait_for_scan`, a background scan is started or left running, but not waited for."""
        failed: list[Discovered] = []
        for source in self._sources:
            try:
                if isinstance(source, IndexerSource):
                    return await self._indexer(source, account)
                found = await self._ranges(source, account, wait_until, wait_for_scan)
            except ChainError as exc:
                error = exc.about(chain=self.chain, account=account)
                failed.append(self._nothing(account, error))
                continue
            if not any(isinstance(e, ChainError) for e in found.errors):
                return found
            failed.append(found)
        return _best(failed) if failed else self._nothing(account, None)

    async def aclose(self) -> None:
        """Stop the background scans (their progress so far is kept)."""
        runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)

    # -- indexers ---------------------------------------------------------------------

    async def _indexer(self, source: IndexerSource, account: str) -> Discovered:
        seen = self._indexed.get((source.name, account))
        if seen is None:
            held = await source.held(account, await self._head())
            seen, dropped = most_recent(held, self._max)
            self._indexed.put((source.name, account), seen, INDEXED_TTL)
            self._indexed_answers += 1
            if dropped:
                log.info("%s: %s lists more than %d tokens", self.chain, source.name, self._max)
        errors = [self._truncated(account)] if len(seen) >= self._max else []
        status = Status(self.chain, self.sources, source.name, None, None, True, len(seen))
        return Discovered(tuple(ranked(seen)), status, tuple(errors))

    # -- block ranges -----------------------------------------------------------------

    async def _ranges(
        self, source: RangeSource, account: str, wait_until: float | None, wait_for_scan: bool
    ) -> Discovered:
        head = await self._head()
        final, first = head - self._depth, self._first(head)
        coverage = await self._coverage(account, final)
        # The few blocks above the final one are read while the scan of the others runs.
        tail_from = max(final + 1, first)
        tail = asyncio.ensure_future(self._tail(source, account, tail_from, head, wait_until))
        errors: list[ServiceError] = []
        busy = False
        if self._open(coverage, final, first):
            run = self._run(source, account)
            busy = run is None
            failure = None if run is None or not wait_for_scan else await _wait(run, wait_until)
            if failure is not None:
                errors.append(failure.about(chain=self.chain, account=account))
            coverage = self._coverages.get(account) or coverage
        return self._answer(source, account, coverage, head, await tail, busy, errors)

    def _answer(
        self,
        source: RangeSource,
        account: str,
        coverage: Coverage,
        head: int,
        tail: Seen | None,
        busy: bool,
        errors: list[ServiceError],
    ) -> Discovered:
        """What a range source found: the coverage and the tail above the final block
        (`None`: not read in time)."""
        final, first = head - self._depth, self._first(head)
        seen = dict(coverage.seen)
        merge(seen, tail or {})
        kept, dropped = most_recent(seen, self._max)
        complete = tail is not None and not self._open(coverage, final, first)
        low = coverage.low if coverage.scanned else max(final + 1, first)
        high = head if tail is not None else coverage.high
        scanned = low <= high
        if not complete:
            errors.append(self._incomplete(account, busy, low if scanned else None, high))
        if coverage.truncated or dropped:
            errors.append(self._truncated(account))
        status = Status(
            self.chain,
            self.sources,
            source.name,
            low if scanned else None,
            high if scanned else None,
            complete,
            len(kept),
        )
        return Discovered(tuple(ranked(kept)), status, tuple(errors))

    def _first(self, head: int) -> int:
        """The oldest block discovery scans, now that the head is `head`."""
        if self._from_block >= 0:
            return self._from_block
        return max(0, head + self._from_block)

    def _open(self, coverage: Coverage, final: int, first: int) -> bool:
        """Whether final blocks from `first` on remain to scan."""
        if final < first:
            return False
        if not coverage.scanned:
            return True
        return coverage.high < final or coverage.low > first

    async def _coverage(self, account: str, final: int) -> Coverage:
        coverage = self._coverages.get(account)
        if coverage is None and self._shared is not None:
            coverage = await self._shared.get(account, self._from_block)
            if coverage is not None and coverage.high <= final:
                self._coverages.put(account, coverage)
            else:
                coverage = None  # from a node ahead of ours: scan again rather than guess
        return coverage or Coverage.empty(final)

    def _run(self, source: RangeSource, account: str) -> asyncio.Task[None] | None:
        """The background scan of `account`: the one running, or a new one if the budget
        allows (`None` when it does not)."""
        run = self._runs.get(account)
        if run is not None:
            return run
        if not self._budget.take():
            return None
        run = asyncio.get_running_loop().create_task(self._scan(source, account))
        self._runs[account] = run
        run.add_done_callback(lambda done: self._ended(account, done))
        return run

    def _ended(self, account: str, run: asyncio.Task[None]) -> None:
        self._runs.pop(account, None)
        self._budget.give_back()
        if not run.cancelled() and run.exception() is not None:
            log.info("%s: discovery scan stopped: %s", self.chain, run.exception())

    async def _scan(self, source: RangeSource, account: str) -> None:
        """Grow `account`'s coverage chunk by chunk (new final blocks first, then older
        ones) for at most `RUN_SECONDS`, keeping the progress after every chunk."""
        started = shared_at = self._clock()
        try:
            while self._clock() - started < RUN_SECONDS:
                head = await self._head()
                final, first = head - self._depth, self._first(head)
                coverage = self._coverages.get(account) or Coverage.empty(final)
                chunk = await self._next_chunk(source, account, coverage, final, first)
                if chunk is None:
                    break
                self._coverages.put(account, coverage.grown(chunk, self._max))
                if self._shared is not None and self._clock() - shared_at >= SHARE_EVERY:
                    shared_at = self._clock()
                    await self._share(account)
        finally:
            if self._shared is not None:
                await asyncio.shield(self._share(account))

    async def _next_chunk(
        self, source: RangeSource, account: str, coverage: Coverage, final: int, first: int
    ) -> Chunk | None:
        if final < first:
            return None
        if not coverage.scanned:
            chunk = await source.scan(account, first, final, downward=True)
        elif coverage.high < final:
            chunk = await source.scan(account, coverage.high + 1, final, downward=False)
        elif coverage.low > first:
            chunk = await source.scan(account, first, coverage.low - 1, downward=True)
        else:
            return None
        return _checked(chunk, self.chain)

    async def _share(self, account: str) -> None:
        coverage = self._coverages.get(account)
        if coverage is not None and self._shared is not None:
            await self._shared.keep(account, self._from_block, coverage)

    async def _tail(
        self, source: RangeSource, account: str, start: int, head: int, wait_until: float | None
    ) -> Seen | None:
        """The tokens that moved in blocks `start`..`head` (not final), kept while the head
        is the same; `None` when they could not be read by `wait_until`."""
        if start > head:
            return {}
        key = (source.name, account, head)
        known = self._tails.get(key)
        if known is not None:
            return known
        seen: Seen = {}
        low = start
        try:
            async with _until(wait_until):
                while low <= head:
                    chunk = await source.scan(account, low, head, downward=False)
                    chunk = _checked(chunk, self.chain)
                    merge(seen, chunk.seen)
                    low = chunk.end + 1
        except TimeoutError:
            return None
        self._tails.put(key, seen, TAIL_TTL)
        return seen

    # -- answers ----------------------------------------------------------------------

    def _nothing(self, account: str, error: ServiceError | None) -> Discovered:
        status = Status(self.chain, self.sources, None, None, None, False, 0)
        return Discovered((), status, () if error is None else (error,))

    def _incomplete(
        self, account: str, busy: bool, low: int | None, high: int
    ) -> DiscoveryIncomplete:
        why = (
            "every discovery scan of this process is busy"
            if busy
            else "the scan of this account's history has not finished"
        )
        return DiscoveryIncomplete(
            f"{self.chain}: {why}; these are the tokens found so far (retry later for the rest)",
            chain=self.chain,
            account=account,
            scanned_from=low,
            scanned_to=None if low is None else high,
        )

    def _truncated(self, account: str) -> DiscoveryTruncated:
        return DiscoveryTruncated(
            f"{self.chain}: more than {self._max} tokens found; the {self._max} most recently "
            "active are shown",
            chain=self.chain,
            account=account,
        )


def _checked(chunk: Chunk, chain: str) -> Chunk:
    if chunk.start > chunk.end:
        raise UpstreamError(f"{chain}: a discovery source covered no blocks", chain=chain)
    return chunk


async def _wait(run: asyncio.Task[None], wait_until: float | None) -> ChainError | None:
    """Wait for `run` until `wait_until` at most (it goes on if not done); its failure, if it
    failed meanwhile with a chain error."""
    try:
        async with _until(wait_until):
            await asyncio.shield(run)
    except TimeoutError:
        return None
    except ChainError as exc:
        return exc
    return None


def _until(wait_until: float | None) -> asyncio.Timeout:
    return asyncio.timeout_at(wait_until)


def _best(failed: list[Discovered]) -> Discovered:
    """Of answers that all met a failure, the one that found most."""
    return max(failed, key=lambda d: len(d.tokens))
