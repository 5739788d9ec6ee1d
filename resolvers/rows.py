"""The row every balance resolver answers: a reading with its token's metadata attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import ChainError
from core.models import BalanceReading, TokenMeta


@dataclass(frozen=True)
class BalanceRow:
    """A balance with its token's metadata attached, so serving it needs no more I/O."""

    reading: BalanceReading
    token: TokenMeta
    spam: bool = False
    token_error: ChainError | None = None
    """Why the metadata is unknown, when reading it failed (e.g. a retryable timeout)."""
    past: bool = False
    """Read at a past block (`atBlock`, `atTime`)."""
    at: datetime | None = None
    """A past read's block time, when its header could be read: it is valued at that time
    (a past read without it is unpriced, never valued at today's price)."""
