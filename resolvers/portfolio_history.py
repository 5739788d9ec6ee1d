"""`portfolioHistory`: what an account's listed holdings were worth at each point of a range.

Each point is an instant (`from`, then every `interval`, up to `to`). Per chain, every
point's block is found by one multi-target search, every point's balances by one Multicall3
round at that block (all points concurrently, through the per-request past loader), and
every point is priced at its own instant (one price request per point). A point's chain
total is null when that chain could not be read at it, or when a token it held has no
price at that instant: an unknown part makes the sum unknown, never 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from chains.reader import Freshness
from core.amounts import exact_product, exact_sum, scale_amount
from core.errors import (
    BadUserInput,
    BeforeFirstBlock,
    CostLimitExceeded,
    NoContractCode,
    PriceUnavailable,
    ServiceError,
)
from core.models import BalanceKey, BalanceReading, TokenMeta
from loaders.past import PastRequest
from prices.base import PriceKey, Quote
from resolvers.account import plan_account, unique_errors
from resolvers.discovery import discovered
from resolvers.history import within_deadline
from resolvers.scope import RequestScope

INTERVALS = {"HOUR": 3_600, "DAY": 86_400, "WEEK": 7 * 86_400}
"""Seconds between points, by `HistoryInterval`."""


@dataclass(frozen=True)
class ChainPoint:
    chain: str
    block_number: int | None
    total_usd: Decimal | None


@dataclass(frozen=True)
class PortfolioPoint:
    at: datetime
    total_usd: Decimal | None
    complete: bool
    by_chain: list[ChainPoint]


def point_count(start: datetime, end: datetime, step: int) -> int:
    """How many points the range has (computed, never listed); refuses a backward range."""
    first, last = _unix(start), _unix(end)
    if last < first:
        raise BadUserInput("to must not be before from")
    return (last - first) // step + 1


def instants(start: datetime, end: datetime, step: int, limit: int) -> list[int]:
    """The points' unix seconds; refuses a range that is backwards or has too many points."""
    first = _unix(start)
    count = point_count(start, end, step)
    if count > limit:
        raise CostLimitExceeded(
            f"portfolioHistory asks for {count} points; at most {limit}: "
            "narrow the range or widen the interval"
        )
    return [first + i * step for i in range(count)]


async def portfolio_history(
    scope: RequestScope,
    address: str,
    chains: Sequence[str] | None,
    points: list[int],
) -> tuple[list[PortfolioPoint], list[ServiceError]]:
    if points and points[-1] > int(datetime.now(UTC).timestamp()):
        raise BadUserInput("to is in the future")
    plan = plan_account(scope.registry, address, chains, None, discover=None)
    found = await discovered(scope, plan.keys, None)
    keys = plan.keys + found.keys
    errors: list[ServiceError] = [*plan.errors, *found.errors]
    scope.charge(len(keys) * len(points))
    scope.hints.served(Freshness(scope.default_max_age))
    by_chain: dict[str, list[BalanceKey]] = {}
    for key in keys:
        by_chain.setdefault(key.chain, []).append(key)
    blocks = dict(
        zip(
            by_chain,
            await asyncio.gather(*(_blocks(scope, c, points) for c in by_chain)),
            strict=True,
        )
    )
    metas = await _metas(scope, keys)
    values = await asyncio.gather(
        *(_point(scope, at, by_chain, blocks, metas, errors) for at in points)
    )
    return list(values), unique_errors(errors)


async def _blocks(
    scope: RequestScope, chain: str, points: list[int]
) -> dict[int, int | ServiceError]:
    try:
        history = scope.registry.get(chain).history
        return await within_deadline(scope, chain, history.blocks_at(points))
    except ServiceError as exc:
        return dict.fromkeys(points, exc)


async def _metas(scope: RequestScope, keys: list[BalanceKey]) -> dict[BalanceKey, TokenMeta]:
    loaded = await scope.loaders.tokens.load_many([(k.chain, k.token) for k in keys])
    return {k: m for k, m in zip(keys, loaded, strict=True) if isinstance(m, TokenMeta)}


async def _point(
    scope: RequestScope,
    at: int,
    by_chain: dict[str, list[BalanceKey]],
    blocks: dict[str, dict[int, int | ServiceError]],
    metas: dict[BalanceKey, TokenMeta],
    errors: list[ServiceError],
) -> PortfolioPoint:
    requests = [
        PastRequest(key, block)
        for chain, keys in by_chain.items()
        if isinstance(block := blocks[chain][at], int)
        for key in keys
    ]
    when = datetime.fromtimestamp(at, UTC)
    readings = [
        # A token of the list or of discovery with no code at a point's block was not
        # deployed yet: nothing was held.
        BalanceReading(q.key, 0, q.block, when) if isinstance(r, NoContractCode) else r
        for q, r in zip(requests, await scope.loaders.past.load_many(requests), strict=True)
    ]
    held = [
        r
        for r in readings
        if isinstance(r, BalanceReading) and r.raw_amount and not _spam(scope, r, metas)
    ]
    priced = await scope.loaders.prices.load_at(
        [PriceKey(r.key.chain, r.key.token) for r in held], when
    )
    value: dict[BalanceKey, Decimal | None] = {}
    for reading, price in zip(held, priced, strict=True):
        scope.hints.priced(price.fetched)
        if isinstance(price.outcome, PriceUnavailable):
            errors.append(price.outcome)
        value[reading.key] = _value(reading, metas.get(reading.key), price.outcome)
    failed = {r.chain for r in readings if isinstance(r, ServiceError)}
    errors += [r for r in readings if isinstance(r, ServiceError)]
    parts: list[ChainPoint] = []
    for chain in by_chain:
        block = blocks[chain][at]
        if isinstance(block, BeforeFirstBlock):  # the chain did not exist: nothing was held
            parts.append(ChainPoint(chain, None, Decimal(0)))
            continue
        if isinstance(block, ServiceError):
            errors.append(block)
            parts.append(ChainPoint(chain, None, None))
            continue
        amounts = [v for r, v in value.items() if r.chain == chain]
        known = chain not in failed and all(a is not None for a in amounts)
        total = exact_sum(a for a in amounts if a is not None) if known else None
        parts.append(ChainPoint(chain, block, total))
    complete = bool(parts) and all(p.total_usd is not None for p in parts)
    total = exact_sum(p.total_usd for p in parts if p.total_usd is not None) if complete else None
    return PortfolioPoint(when, total, complete, parts)


def _spam(scope: RequestScope, reading: BalanceReading, metas: dict[BalanceKey, TokenMeta]) -> bool:
    """Spam as `Account.balances` judges it: a discovered token on no list meets the
    heuristic, a listed one only its list's tag."""
    meta = metas.get(reading.key)
    if meta is None:
        return False
    listed = scope.registry.get(reading.key.chain).reader.is_listed(reading.key.token)
    return scope.spam.is_spam(meta, listed=listed)


def _value(reading: BalanceReading, meta: TokenMeta | None, price: object) -> Decimal | None:
    if meta is None or meta.decimals is None or not isinstance(price, Quote):
        return None
    return exact_product(scale_amount(reading.raw_amount, meta.decimals), price.usd)


def _unix(moment: datetime) -> int:
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
