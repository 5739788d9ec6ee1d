"""`DiscoveryStatus`: how far discovery got on one chain for one account."""

from __future__ import annotations

import strawberry

from chains.discovery.service import Status
from graph.schema.scalars import BigInt


@strawberry.type(description="How far discovery got on one chain for one account.")
class DiscoveryStatus:
    chain: str = strawberry.field(description="Chain id.")
    sources: list[str] = strawberry.field(
        description="The configured sources, in the order they are tried (`logs`, …)."
    )
    source: str | None = strawberry.field(
        description="The source that answered; null when none could."
    )
    scanned_from_block: BigInt | None = strawberry.field(
        description=(
            "The oldest block scanned so far (a range source such as `logs`); null for an "
            "indexer, or before anything was scanned."
        )
    )
    scanned_to_block: BigInt | None = strawberry.field(
        description="The newest block scanned so far (the head once the scan is done)."
    )
    complete: bool = strawberry.field(
        description="Every block from the chain's first scanned block to the head was read."
    )
    token_count: int = strawberry.field(description="Tokens found so far.")

    @classmethod
    def from_domain(cls, status: Status) -> DiscoveryStatus:
        return cls(
            chain=status.chain,
            sources=list(status.sources),
            source=status.source,
            scanned_from_block=None if status.scanned_from is None else BigInt(status.scanned_from),
            scanned_to_block=None if status.scanned_to is None else BigInt(status.scanned_to),
            complete=status.complete,
            token_count=status.token_count,
        )
