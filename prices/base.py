"""What a price is, and the protocol every price source implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from core.errors import PriceUnavailable
from core.models import TokenRef


@dataclass(frozen=True, order=True)
class PriceKey:
    """A token to price: chain id and canonical token."""

    chain: str
    token: TokenRef


@dataclass(frozen=True)
class Quote:
    usd: Decimal
    quoted_at: datetime
    source: str


PriceOutcome = Quote | PriceUnavailable | None
"""A quote, the error that prevented one, or `None` for "no source prices this token"."""


@dataclass(frozen=True)
class Priced:
    """An outcome and when this service fetched it from its source (unix seconds): a cached
    answer is reused until `fetched` plus the price cache's TTL, so whatever serves it can
    expire with it."""

    outcome: PriceOutcome
    fetched: float


class PriceSource(Protocol):
    """Prices many tokens in one call, now (`quotes`) or at a past instant (`quotes_at`).

    Returns the quotes it has; a key absent from the answer is unpriced by this source.
    Raises `PriceUnavailable` when the source itself failed (down, rate limited, garbage).
    """

    name: str

    async def quotes(self, keys: Sequence[PriceKey]) -> dict[PriceKey, Quote]: ...

    async def quotes_at(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, Quote]: ...
