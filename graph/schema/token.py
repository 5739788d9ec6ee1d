"""`Token`: a token's metadata and USD price, a federation entity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from core.errors import ChainError, ServiceError
from core.models import TokenMeta, TokenRef
from graph.execution.context import Info
from graph.execution.direct import SERVED_FROM
from graph.schema.enums import TokenStandard
from graph.schema.scalars import BigInt
from prices.base import Quote
from resolvers import balances as balance_resolvers
from resolvers import change as change_resolvers
from resolvers import tokens as token_resolvers
from resolvers import values as value_resolvers


@strawberry.federation.type(
    keys=["chain address tokenId"],
    description=(
        "A fungible or non-fungible token, or a chain's native asset (address `native`). A "
        "federation entity: other subgraphs reference it by `chain`, `address` and `tokenId` "
        "(null except for one id of an ERC-1155 contract)."
    ),
)
class Token:
    chain: str = strawberry.field(
        description="Id of the chain the token lives on, e.g. `ethereum`."
    )
    address: str = strawberry.field(
        description="Contract address (EIP-55 checksummed on EVM chains), or `native`."
    )
    token_id: BigInt | None = strawberry.field(
        description="The ERC-1155 token id, for a balance of one id of a multi-token contract."
    )
    standard: TokenStandard = strawberry.field(description="The token standard.")
    symbol: str | None = strawberry.field(description="Ticker, e.g. `USDC`; null when unknown.")
    name: str | None = strawberry.field(description="Human-readable name; null when unknown.")
    raw_decimals: strawberry.Private[int | None]
    logo: str | None = strawberry.field(description="Logo URL from the token list, when known.")
    is_spam: bool = strawberry.field(
        description=(
            "Flagged as spam: tagged so in the token list, on the operator's deny list, or an "
            "unlisted token whose name or symbol advertises a URL or a claim/airdrop bait."
        )
    )
    key: strawberry.Private[TokenRef]
    unknown: strawberry.Private[ServiceError | None] = None
    """Why `decimals` is null, reported with it."""

    @strawberry.field(
        description=(
            "Decimals turning `rawAmount` into `amount`. Null, never guessed, when unknown, "
            "with a TOKEN_METADATA_UNAVAILABLE error saying why (retryable when the chain's "
            "answer was garbled rather than missing)."
        ),
        metadata={SERVED_FROM: "raw_decimals"},
    )
    def decimals(self, info: Info) -> int | None:
        if self.raw_decimals is None and self.unknown is not None:
            info.context.report(info, self.unknown)
        return self.raw_decimals

    @classmethod
    def from_meta(
        cls, meta: TokenMeta, *, spam: bool = False, read_error: ChainError | None = None
    ) -> Token:
        token_id = meta.token_id
        return cls(
            chain=meta.chain,
            address=meta.contract,
            token_id=None if token_id is None else BigInt(token_id),
            standard=meta.standard,
            symbol=meta.symbol,
            name=meta.name,
            raw_decimals=meta.decimals,
            unknown=balance_resolvers.unknown_decimals(meta, read_error),
            logo=meta.logo,
            is_spam=spam,
            key=meta.token,
        )

    @classmethod
    async def resolve_reference(
        cls,
        info: Info,
        chain: str,
        address: str,
        tokenId: str | int | None = None,
    ) -> Token:
        """An entity reference from the gateway, loaded through the per-request loaders, so
        many references cost one batch per chain."""
        text = address if tokenId is None else f"{address}:{tokenId}"
        meta, spam = await token_resolvers.token(info.context.scope, chain, text)
        return cls.from_meta(meta, spam=spam)

    @strawberry.field(
        description=(
            "USD price per whole token; null when no price source knows it (or with a "
            "PRICE_UNAVAILABLE error when a source failed). Never 0 for unknown."
        )
    )
    async def price_usd(self, info: Info) -> Decimal | None:
        quote = await quote_of(info, self.chain, self.key)
        return None if quote is None else quote.usd

    @strawberry.field(description="When the price source quoted `priceUsd`.")
    async def price_updated_at(self, info: Info) -> datetime | None:
        quote = await quote_of(info, self.chain, self.key)
        return None if quote is None else quote.quoted_at

    @strawberry.field(
        description=(
            "USD price 24 hours ago (on a 5-minute grid), from the price sources' history; "
            "null when unknown."
        )
    )
    async def price_usd_24h_ago(self, info: Info) -> Decimal | None:
        move = await day_move(info, self.chain, self.key)
        return move.ago.usd if isinstance(move.ago, Quote) else None

    @strawberry.field(
        description=(
            "Price change over 24 hours, in percent (rounded to 4 decimal places); null when "
            "either price is unknown, never 0 for unknown."
        )
    )
    async def price_change_24h(self, info: Info) -> Decimal | None:
        return (await day_move(info, self.chain, self.key)).percent


async def day_move(info: Info, chain: str, token: TokenRef) -> change_resolvers.DayMove:
    """The token's price now and a day ago, with any price failure reported."""
    move = await change_resolvers.token_move(info.context.scope, chain, token)
    for error in move.errors:
        info.context.report(info, error)
    return move


async def quote_of(
    info: Info, chain: str, token: TokenRef, at: datetime | None = None
) -> Quote | None:
    outcome = await value_resolvers.price(info.context.scope, chain, token, at)
    if isinstance(outcome, ServiceError):
        info.context.report(info, outcome)
        return None
    return outcome
