"""Reads as of the past: `atBlock` / `atTime` on balance fields, and `balanceHistory`.

`atTime` resolves per chain to the last block at or before the instant (each chain has its
own blocks); `atBlock` is checked against each chain's head. A chain that cannot resolve
(beyond its head, before its first block, node trouble) gives its lookups that error, and
the other chains are served. The reads themselves go through the per-request
`PastBalanceLoader`: one Multicall3 round per (chain, block).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from chains.history.timelines import COLD_SCAN, Event
from chains.reader import Freshness
from core.errors import (
    BadUserInput,
    CostLimitExceeded,
    HistoryRepriced,
    ServiceError,
    UpstreamTimeout,
)
from core.models import BalanceKey, BalanceReading
from loaders.past import PastRequest
from resolvers.arguments import account_on, token_on
from resolvers.scope import RequestScope
from settings import LimitsConfig

_CURSOR = b"bgh1:"
_T = TypeVar("_T")


@dataclass(frozen=True)
class At:
    """A past point of every chain: one block number, or one instant."""

    block: int | None = None
    time: datetime | None = None

    @classmethod
    def of(cls, at_block: int | None, at_time: datetime | None) -> At | None:
        """The arguments' point, `None` for now; both at once is refused."""
        if at_block is not None and at_time is not None:
            raise BadUserInput("atBlock and atTime are mutually exclusive: give one of them")
        if at_block is not None and at_block < 0:
            raise BadUserInput(f"atBlock must be zero or more, got {at_block}")
        if at_block is None and at_time is None:
            return None
        return cls(at_block, at_time)

    def instant(self) -> int:
        """`time` as unix seconds (a time without a zone is UTC)."""
        assert self.time is not None
        moment = self.time if self.time.tzinfo else self.time.replace(tzinfo=UTC)
        return int(moment.timestamp())


async def blocks_for(
    scope: RequestScope, at: At, chains: Iterable[str]
) -> dict[str, int | ServiceError]:
    """The block `at` names on each chain, or why it cannot be read there."""
    ids = list(dict.fromkeys(chains))
    found = await asyncio.gather(*(_block_on(scope, chain, at) for chain in ids))
    return dict(zip(ids, found, strict=True))


async def _block_on(scope: RequestScope, chain: str, at: At) -> int | ServiceError:
    history = scope.registry.get(chain).history
    try:
        if at.block is not None:
            return await within_deadline(scope, chain, history.check(at.block))
        instant = at.instant()
        if instant > int(datetime.now(UTC).timestamp()):
            raise BadUserInput("atTime is in the future", chain=chain)
        return (await within_deadline(scope, chain, history.blocks_at([instant])))[instant]
    except ServiceError as exc:
        return exc


async def within_deadline(scope: RequestScope, chain: str, work: Awaitable[_T]) -> _T:
    """`work`, or `UpstreamTimeout` at the request's deadline (shared scans go on: what
    they read is kept for the next request)."""
    try:
        async with asyncio.timeout_at(scope.deadline):
            return await work
    except TimeoutError:
        raise UpstreamTimeout(
            f"{chain} did not answer within the request's deadline; what was read is kept",
            chain=chain,
        ) from None


@dataclass(frozen=True)
class PastReads:
    """Each lookup's reading or error, and the time of each chain's block read."""

    outcomes: list[BalanceReading | ServiceError]
    times: dict[str, datetime]


async def read_at(scope: RequestScope, keys: Sequence[BalanceKey], at: At) -> PastReads:
    """Every lookup as of `at`, one round per chain."""
    blocks = await blocks_for(scope, at, (k.chain for k in keys))
    requests = {
        i: PastRequest(k, block)
        for i, k in enumerate(keys)
        if isinstance(block := blocks[k.chain], int)
    }
    loaded = await scope.loaders.past.load_many(list(requests.values()))
    by_index = dict(zip(requests, loaded, strict=True))
    outcomes: list[BalanceReading | ServiceError] = []
    for index, key in enumerate(keys):
        block = blocks[key.chain]
        if isinstance(block, ServiceError):
            outcomes.append(block.about(**key.labels))
        else:
            outcomes.append(by_index[index])
    times = await block_times(scope, {c: b for c, b in blocks.items() if isinstance(b, int)})
    return PastReads(outcomes, times)


async def block_times(scope: RequestScope, blocks: dict[str, int]) -> dict[str, datetime]:
    """When each chain's block was made (a chain whose header cannot be read is left out:
    its values are then unpriced, never priced now)."""

    async def one(chain: str, block: int) -> datetime | None:
        try:
            stamps = await scope.registry.get(chain).history.times([block])
        except ServiceError:
            return None
        return datetime.fromtimestamp(stamps[block], UTC)

    found = await asyncio.gather(*(one(c, b) for c, b in blocks.items()))
    return {c: t for c, t in zip(blocks, found, strict=True) if t is not None}


@dataclass(frozen=True)
class HistoryEvent:
    block_number: int
    timestamp: datetime
    transaction_hash: str
    log_index: int | None
    delta: int
    balance: int


@dataclass(frozen=True)
class HistoryPage:
    events: list[HistoryEvent]
    has_next_page: bool
    end_cursor: str | None


@dataclass(frozen=True)
class HistoryQuery:
    chain: str
    token: str
    from_block: int | None
    to_block: int | None
    first: int
    after: str | None

    @property
    def blocks(self) -> tuple[int | None, int | None]:
        """`fromBlock` and `toBlock`."""
        return self.from_block, self.to_block

    def check(self, limits: LimitsConfig) -> tuple[int, int] | None:
        """Refuse what cannot be served, before any I/O; the cursor's position, if any."""
        if not 1 <= self.first <= limits.max_history_page:
            raise CostLimitExceeded(
                f"first must be 1 to {limits.max_history_page}, got {self.first}"
            )
        for name, block in (("fromBlock", self.from_block), ("toBlock", self.to_block)):
            if block is not None and block < 0:
                raise BadUserInput(f"{name} must be zero or more, got {block}")
        return None if self.after is None else _decode(self.after)


async def balance_history(scope: RequestScope, address: str, query: HistoryQuery) -> HistoryPage:
    """A page of the (account, token) timeline, newest first, after the cursor; charged the
    scan it may need, as the request was priced (`Timelines.quote`)."""
    position = query.check(scope.limits)
    chain = scope.registry.get(query.chain)
    key = BalanceKey(chain.id, account_on(chain, address), token_on(chain, query.token))
    history = chain.history
    cold = query.from_block is None and not await history.first_known(key.token)
    priced = await within_deadline(scope, chain.id, history.quote(key, *query.blocks))
    scope.charge(priced)
    if cold:  # priced a scan of unknown size: its size is known once the search is done
        first = await within_deadline(scope, chain.id, history.first_block(key.token))
        needed = await within_deadline(scope, chain.id, history.quote(key, *query.blocks))
        if needed > COLD_SCAN + 1:
            raise HistoryRepriced(
                f"priced before {query.token}'s first block on {chain.id} was known; from "
                f"block {first} its scan needs {needed} requests: send the request again (it "
                "is priced that now), or narrow it with fromBlock",
                chain=chain.id,
                token=query.token,
            )
    scope.hints.served(Freshness(scope.default_max_age))  # the unfinal tail ages
    timeline = history.timeline(key, *query.blocks)
    events = await within_deadline(scope, chain.id, timeline)
    newest_first = [e for e in reversed(events) if position is None or _position(e) < position]
    page = newest_first[: query.first]
    missing = [e.movement.block_number for e in page if e.movement.timestamp is None]
    stamps = await within_deadline(scope, chain.id, history.times(missing)) if missing else {}
    return HistoryPage(
        events=[_event(e, stamps) for e in page],
        has_next_page=len(newest_first) > len(page),
        end_cursor=_encode(_position(page[-1])) if page else None,
    )


def _event(event: Event, stamps: dict[int, int]) -> HistoryEvent:
    movement = event.movement
    stamp = movement.timestamp
    if stamp is None:
        stamp = stamps[movement.block_number]
    return HistoryEvent(
        block_number=movement.block_number,
        timestamp=datetime.fromtimestamp(stamp, UTC),
        transaction_hash=movement.transaction_hash,
        log_index=movement.log_index,
        delta=movement.delta,
        balance=event.balance,
    )


def _position(event: Event) -> tuple[int, int]:
    return event.movement.block_number, event.movement.order


def _encode(position: tuple[int, int]) -> str:
    text = _CURSOR + f"{position[0]}:{position[1]}".encode()
    return base64.urlsafe_b64encode(text).decode()


def _decode(cursor: str) -> tuple[int, int]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii"))
        block, order = text.removeprefix(_CURSOR).split(b":")
        if not text.startswith(_CURSOR):
            raise ValueError
        return int(block), int(order)
    except (ValueError, UnicodeError, binascii.Error):
        raise BadUserInput("after is not a cursor this field returned") from None
