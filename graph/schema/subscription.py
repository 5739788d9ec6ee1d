"""The Subscription root: live balances (`balanceChanges`), and the `BalanceChange` it sends."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, cast

import strawberry

from core.errors import DiscoveryTruncated, ServiceError
from core.models import BalanceKey
from graph.execution.context import Info, LiveSession
from graph.schema.account import Balance
from graph.schema.arguments import ChainIds, IncludeZero, TokenAddresses
from graph.schema.scalars import BigInt
from resolvers import live as live_resolvers


@strawberry.type(
    description=(
        "One balance's new value: first the current value of every watched row (the snapshot, "
        "`previousRawAmount` null), then one event each time a value changes."
    )
)
class BalanceChange:
    account: str = strawberry.field(description="The account (canonical form).")
    chain: str = strawberry.field(description="The chain id.")
    block_number: BigInt = strawberry.field(
        description="The block the value is as of (the head the follower read)."
    )
    balance: Balance = strawberry.field(
        description="The new value, with its token, amount and USD value."
    )
    previous_raw_amount: BigInt | None = strawberry.field(
        description=(
            "The raw amount this subscription had before (null in the snapshot). A client that "
            "reads slowly may skip values: this is always the one it last received."
        )
    )
    timestamp: strawberry.Private[int | None] = None
    """The block's unix time (push lag is measured from it)."""

    @classmethod
    def of(cls, change: live_resolvers.ChangeRow) -> BalanceChange:
        key = change.row.reading.key
        previous = change.previous
        return cls(
            account=key.account,
            chain=key.chain,
            block_number=BigInt(change.block),
            balance=Balance.from_row(change.row),
            previous_raw_amount=None if previous is None else BigInt(previous),
            timestamp=change.timestamp,
        )


@strawberry.type(description="Live balances, pushed as blocks change them.")
class Subscription:
    @strawberry.subscription(
        description=(
            "The balances of `accounts` (rows as in `Account.balances`: without `tokens`, the "
            "native asset, the chain's list and what discovery finds), then every change, in "
            "block order. Each chain's rows are read once per block, however many watch them. "
            "An invalid address or unknown chain refuses the subscription; an upstream failure "
            "is an error event, and the subscription catches up when the node is back."
        )
    )
    async def balance_changes(
        self,
        info: Info,
        accounts: Annotated[list[str], strawberry.argument(description="Wallet addresses.")],
        chains: ChainIds = None,
        tokens: TokenAddresses = None,
        include_zero: IncludeZero = False,
    ) -> AsyncGenerator[BalanceChange, None]:
        session = info.context.live
        if session is None:
            raise RuntimeError("balanceChanges runs only through a subscription transport")
        watch = live_resolvers.Watch(accounts, chains, tokens, bool(include_zero))
        keys = await live_resolvers.watched_rows(info.context.scope, watch)
        # Errors are events too: graphql-core reports a returned exception at the field.
        return cast(AsyncGenerator[BalanceChange, None], _events(session, keys, watch))


async def _events(
    session: LiveSession, keys: list[BalanceKey], watch: live_resolvers.Watch
) -> AsyncGenerator[BalanceChange | ServiceError, None]:
    """The watched rows' events, paid for batch by batch before they are sent (the snapshot
    is paid for at subscribe time); the rows are unwatched when the subscription ends.
    Discovery's finds beyond the caller's `max_watched_lookups` are not watched: the first
    event says so (the planned rows come first in `keys`, and are within the price)."""
    allowed = await session.claim(len(keys))
    if allowed < len(keys):
        yield DiscoveryTruncated(
            f"discovery found {len(keys)} rows to watch; this subscription may watch "
            f"{allowed} of them (its caller's [limits] max_watched_lookups, across its "
            "subscriptions): those beyond are not watched"
        )
        keys = keys[:allowed]
    session.hub.watch(keys, session.mailbox)
    try:
        async for batch in live_resolvers.batches(
            session.mailbox, session.fresh, watch.include_zero
        ):
            changes = [c for c in batch if isinstance(c, live_resolvers.ChangeRow)]
            await session.pay(sum(1 for c in changes if c.previous is not None))
            for item in batch:
                yield BalanceChange.of(item) if isinstance(item, live_resolvers.ChangeRow) else item
    finally:
        session.hub.unwatch(keys, session.mailbox)
