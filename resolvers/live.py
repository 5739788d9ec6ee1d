"""Live balances (`Subscription.balanceChanges`): the rows a subscription watches, and its
events as rows.

The rows follow `Account.balances`: for each account, every chain its address fits (or the
`chains` named), and there the `tokens` named or, without them, the native asset, the
chain's list and what discovery finds. Unlike a query, a subscription is refused whole when
an argument cannot be used (an invalid address, an unknown chain or token): `plan_watch`
decides that before any I/O, so the pipeline refuses it before charging anything.

Events come from the chain followers (`chains.live`) through the subscription's mailbox, a
batch at a time: each `Change` becomes a `BalanceRow` (metadata attached with a fresh
request scope per batch, spam left out as `Account.balances` does), each `Failure` its
error. Zero rows are left out of the snapshot unless `include_zero`; a change to zero is
always sent (the row emptied).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from chains.live.mailbox import Change, Mailbox
from chains.registry import ChainRegistry
from core.errors import BadUserInput, CostLimitExceeded, ServiceError
from core.models import BalanceKey
from resolvers.account import plan_account
from resolvers.balances import with_tokens
from resolvers.discovery import discovered
from resolvers.rows import BalanceRow
from resolvers.scope import RequestScope
from settings import LimitsConfig


@dataclass(frozen=True)
class Watch:
    """A `balanceChanges` subscription's arguments."""

    accounts: Sequence[str]
    chains: Sequence[str] | None = None
    tokens: Sequence[str] | None = None
    include_zero: bool = False


@dataclass(frozen=True)
class ChangeRow:
    """One event: a row's value as of `block`, and the raw amount its subscriber had before
    (`None`: its first value, the snapshot)."""

    row: BalanceRow
    previous: int | None
    block: int
    timestamp: int | None
    read: float


def plan_watch(registry: ChainRegistry, limits: LimitsConfig, watch: Watch) -> list[BalanceKey]:
    """The rows `watch` asks for before discovery; raises the `ServiceError` that refuses the
    subscription (no I/O: the cost model calls it too)."""
    if not watch.accounts:
        raise BadUserInput("accounts must name at least one address")
    if len(watch.accounts) > limits.max_accounts:
        raise CostLimitExceeded(
            f"balanceChanges accepts at most {limits.max_accounts} accounts, "
            f"got {len(watch.accounts)}"
        )
    if watch.tokens is not None and len(watch.tokens) > limits.max_tokens:
        raise CostLimitExceeded(
            f"tokens accepts at most {limits.max_tokens} addresses, got {len(watch.tokens)}"
        )
    keys: list[BalanceKey] = []
    for address in watch.accounts:
        plan = plan_account(registry, address, watch.chains, watch.tokens, None)
        if plan.errors:
            raise plan.errors[0]
        keys += plan.keys
    return list(dict.fromkeys(keys))


async def watched_rows(scope: RequestScope, watch: Watch) -> list[BalanceKey]:
    """Every row the subscription watches: its plan, and what discovery finds (within the
    request's deadline; an unfinished discovery watches what it found so far)."""
    keys = plan_watch(scope.registry, scope.limits, watch)
    if watch.tokens is None:
        keys += (await discovered(scope, keys, None)).keys
    return keys


async def batches(
    mailbox: Mailbox, fresh: Callable[[], RequestScope], include_zero: bool
) -> AsyncIterator[list[ChangeRow | ServiceError]]:
    """The subscription's events, a batch per take from its mailbox, until it closes;
    `SlowConsumer` when its subscriber left too many values unread."""
    while events := await mailbox.take():
        changes = [
            e
            for e in events
            if isinstance(e, Change)
            and (include_zero or e.previous is not None or e.reading.raw_amount)
        ]
        rows = dict(
            zip(
                (id(c) for c in changes),
                await with_tokens(fresh(), [c.reading for c in changes]),
                strict=True,
            )
        )
        batch: list[ChangeRow | ServiceError] = []
        for event in events:
            if not isinstance(event, Change):
                batch.append(event.error)
            elif (row := rows.get(id(event))) is not None and not row.spam:
                batch.append(
                    ChangeRow(row, event.previous, event.block, event.timestamp, event.read)
                )
        if batch:
            yield batch
