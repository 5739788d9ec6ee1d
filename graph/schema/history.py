"""History as GraphQL types: balance timelines and portfolio points."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from graph.schema.scalars import BigInt
from resolvers import history as history_resolvers
from resolvers import portfolio_history as portfolio_history_resolvers


@strawberry.enum(description="The spacing of portfolioHistory points.")
class HistoryInterval(Enum):
    HOUR = strawberry.enum_value("HOUR", description="A point every hour.")
    DAY = strawberry.enum_value("DAY", description="A point every day (24 hours).")
    WEEK = strawberry.enum_value("WEEK", description="A point every week (7 days).")


@strawberry.type(description="One event that moved a balance.")
class BalanceEvent:
    block_number: BigInt = strawberry.field(description="The block the event is in.")
    timestamp: datetime = strawberry.field(description="That block's time.")
    transaction_hash: str = strawberry.field(description="The transaction that moved it.")
    log_index: int | None = strawberry.field(
        description="The log's index in its block (EVM); null where events have none."
    )
    delta: BigInt = strawberry.field(
        description="The exact signed change in the smallest unit (0 for a send to oneself)."
    )
    balance: BigInt = strawberry.field(description="The balance right after the event.")

    @classmethod
    def from_domain(cls, event: history_resolvers.HistoryEvent) -> BalanceEvent:
        return cls(
            block_number=BigInt(event.block_number),
            timestamp=event.timestamp,
            transaction_hash=event.transaction_hash,
            log_index=event.log_index,
            delta=BigInt(event.delta),
            balance=BigInt(event.balance),
        )


@strawberry.type(
    name="HistoryPageInfo",
    description=(
        "Where a page of events ends (not named PageInfo: a supergraph may hold Relay's)."
    ),
)
class PageInfo:
    has_next_page: bool = strawberry.field(description="Older events remain.")
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next (older) page; null on an empty page."
    )


@strawberry.type(description="A page of one balance's events, newest first.")
class BalanceHistory:
    events: list[BalanceEvent] = strawberry.field(description="Newest first.")
    page_info: PageInfo = strawberry.field(description="Paging.")

    @classmethod
    def from_domain(cls, page: history_resolvers.HistoryPage) -> BalanceHistory:
        return cls(
            events=[BalanceEvent.from_domain(e) for e in page.events],
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
        )

    @classmethod
    def empty(cls) -> BalanceHistory:
        return cls(events=[], page_info=PageInfo(has_next_page=False, end_cursor=None))


@strawberry.type(description="One chain's part of a portfolio point.")
class ChainPoint:
    chain: str = strawberry.field(description="Chain id.")
    block_number: BigInt | None = strawberry.field(
        description=(
            "The block read for the point (null when none could be, or the chain had no "
            "block yet: its total is then 0)."
        )
    )
    total_usd: Decimal | None = strawberry.field(
        description="USD value on this chain; null when a part of it is unknown."
    )


@strawberry.type(description="What an account's holdings were worth at one instant.")
class PortfolioPoint:
    at: datetime = strawberry.field(description="The instant.")
    total_usd: Decimal | None = strawberry.field(
        description=(
            "Sum over chains at prices of that instant; null when any part is unknown (a "
            "chain unread, a held token unpriced), never 0 for unknown."
        )
    )
    complete: bool = strawberry.field(description="Every chain read and every holding priced.")
    by_chain: list[ChainPoint] = strawberry.field(description="Per chain.")

    @classmethod
    def from_domain(cls, point: portfolio_history_resolvers.PortfolioPoint) -> PortfolioPoint:
        return cls(
            at=point.at,
            total_usd=point.total_usd,
            complete=point.complete,
            by_chain=[
                ChainPoint(
                    chain=c.chain,
                    block_number=None if c.block_number is None else BigInt(c.block_number),
                    total_usd=c.total_usd,
                )
                for c in point.by_chain
            ],
        )
