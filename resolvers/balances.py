"""Balance resolvers for explicit lookups: one pair, or a list of pairs answered in order.

They return domain values (`BalanceReading`) and `ServiceError`s as values; the graph layer
turns each error into a GraphQL error at the right path while the good items are served.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from chains.reader import BalanceRequest
from chains.registry import ChainRegistry
from core.amounts import scale_amount
from core.errors import (
    ChainError,
    CostLimitExceeded,
    ServiceError,
    TokenMetadataUnavailable,
)
from core.models import (
    BalanceKey,
    BalanceReading,
    TokenMeta,
    TokenStandard,
)
from resolvers.arguments import account_on, freshness, token_on
from resolvers.history import At, read_at
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope

_EVM_SHAPED = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class PairInput:
    account: str
    chain: str
    token: str


async def balance(
    scope: RequestScope,
    account: str,
    chain: str,
    token: str,
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
) -> BalanceRow:
    """One balance (as of `at`, if given); raises the `ServiceError` that prevented it."""
    (outcome,) = await balance_pairs(
        scope, [PairInput(account, chain, token)], max_age, force_refresh, at
    )
    if isinstance(outcome, ServiceError):
        raise outcome
    return outcome


async def balance_pairs(
    scope: RequestScope,
    pairs: Sequence[PairInput],
    max_age: int | None,
    force_refresh: bool | None,
    at: At | None = None,
) -> list[BalanceRow | ServiceError]:
    """Each pair's balance or error (as of `at`, if given), in order; one bad pair never
    hides the others."""
    if len(pairs) > scope.limits.max_pairs:
        raise CostLimitExceeded(
            f"balances accepts at most {scope.limits.max_pairs} pairs per call, got {len(pairs)}"
        )
    fresh = freshness(scope, max_age, force_refresh)
    scope.hints.served(fresh)
    outcomes: list[BalanceRow | ServiceError | None] = []
    requests: dict[int, BalanceRequest] = {}
    for index, pair in enumerate(pairs):
        try:
            requests[index] = BalanceRequest(plan_pair(scope.registry, pair), fresh)
            outcomes.append(None)
        except ServiceError as exc:
            outcomes.append(exc)
    scope.charge(len(requests))
    loaded, times = await load(scope, list(requests.values()), at)
    for reading in loaded:
        if isinstance(reading, BalanceReading):
            scope.hints.read(reading.read_at)
    read = [o for o in loaded if isinstance(o, BalanceReading)]
    rows = iter(await with_tokens(scope, read, times))
    for index, outcome in zip(requests, loaded, strict=True):
        outcomes[index] = next(rows) if isinstance(outcome, BalanceReading) else outcome
    return [o for o in outcomes if o is not None]


def amount(row: BalanceRow) -> Decimal:
    """The exact decimal amount; raises why not when the decimals are unknown."""
    known = known_amount(row)
    if known is None:
        why = unknown_decimals(row.token, row.token_error)
        raise (why or _undecided(row.token)).about(**row.reading.key.labels)
    return known


def known_amount(row: BalanceRow) -> Decimal | None:
    """The exact decimal amount, or `None` when the decimals are unknown."""
    decimals = row.token.decimals
    return None if decimals is None else scale_amount(row.reading.raw_amount, decimals)


def unknown_decimals(meta: TokenMeta, read_error: ChainError | None = None) -> ServiceError | None:
    """Why `meta.decimals` is unknown (`None` when it is known): the failed metadata read,
    or the chain's answer, retryable only when that answer was garbled."""
    if meta.decimals is not None:
        return None
    if read_error is not None:
        return read_error
    return _undecided(meta)


def _undecided(meta: TokenMeta) -> TokenMetadataUnavailable:
    answer = "answered garbled data" if meta.garbled else "has no decimals()"
    return TokenMetadataUnavailable(
        f"decimals of {meta.token} on {meta.chain} are unknown (the contract {answer}), so "
        "the amount cannot be computed; rawAmount is exact",
        chain=meta.chain,
        token=str(meta.token),
    ).retry_if(meta.garbled)


async def load(
    scope: RequestScope, requests: list[BalanceRequest], at: At | None
) -> tuple[list[BalanceReading | ServiceError], dict[str, datetime] | None]:
    """Each lookup now (through the cache; no times), or as of `at` with each chain's block
    time (a chain whose header could not be read has none)."""
    if at is None:
        return list(await scope.loaders.balances.load_many(requests)), None
    past = await read_at(scope, [r.key for r in requests], at)
    return past.outcomes, past.times


async def with_tokens(
    scope: RequestScope,
    readings: list[BalanceReading],
    times: dict[str, datetime] | None = None,
) -> list[BalanceRow]:
    """Attach token metadata (listed, primed by the balance read, or loaded in one batch),
    and for a past read (`times` given, by chain) the time of its block.

    Metadata that cannot be read leaves every field unknown (null) rather than failing a
    balance that was read correctly; `amount` then reports TOKEN_METADATA_UNAVAILABLE.
    """
    metas = await scope.loaders.tokens.load_many([(r.key.chain, r.key.token) for r in readings])
    rows: list[BalanceRow] = []
    known = scope.views.rows
    for reading, loaded in zip(readings, metas, strict=True):
        past = times is not None
        at = times.get(reading.key.chain) if times is not None else None
        if isinstance(loaded, TokenMeta):
            if past:  # a row of its own
                row = _row(scope, reading, loaded, None, at, past=True)
            else:  # cached objects, so the same row as last time
                row = known.get((reading, loaded)) or known.put(
                    (reading, loaded), _row(scope, reading, loaded, None)
                )
        else:
            key = reading.key
            erc1155 = key.token.token_id is not None
            standard = TokenStandard.ERC1155 if erc1155 else TokenStandard.ERC20
            meta = TokenMeta(key.chain, key.token, standard, None, None, None)
            row = _row(scope, reading, meta, loaded, at, past=past)
        rows.append(row)
    return rows


def _row(
    scope: RequestScope,
    reading: BalanceReading,
    meta: TokenMeta,
    error: ChainError | None,
    at: datetime | None = None,
    *,
    past: bool = False,
) -> BalanceRow:
    key = reading.key
    listed = scope.registry.get(key.chain).reader.is_listed(key.token)
    return BalanceRow(reading, meta, scope.spam.is_spam(meta, listed=listed), error, past, at)


def plan_pair(registry: ChainRegistry, pair: PairInput) -> BalanceKey:
    """The lookup one pair asks for; raises the `ServiceError` of a pair that cannot be read."""
    chain = registry.get(pair.chain)
    return BalanceKey(chain.id, account_on(chain, pair.account), token_on(chain, pair.token))
