"""Live balances (`Subscription.balanceChanges`): how each chain's head is followed, and what
one process allows its subscribers.

    [chains.ethereum]
    ws_urls = ["wss://…"]         # newHeads over WebSocket; without: poll the head
    poll_interval = 2             # seconds between head polls (default by family)
    full_refresh_blocks = 64      # every N blocks every watched row is read, pre-filter or not

    [live]
    max_pending = 1000            # values a subscriber may leave unread (collapsed) before it
                                  # is closed
    max_sockets = 1000            # open WebSockets per worker (uvicorn does not count them)
    init_timeout = 3              # seconds a WebSocket has to send connection_init
    heartbeat = 5                 # seconds between multipart keep-alive parts

Per-caller limits on open subscriptions and watched lookups are in `[limits]`
(`max_subscriptions_per_caller`, `max_watched_lookups`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from settings.secret import Secret
from settings.section import Lax, Section

POLL_INTERVALS = {"evm": 2.0, "starknet": 10.0, "bitcoin": 30.0}
"""Seconds between head polls by family, when a chain sets no `poll_interval`."""


class ChainLive(Section):
    """The live-balance keys of a `[chains.<id>]` table (its other keys: `ChainConfig`)."""

    ws_urls: Annotated[tuple[Secret, ...], Lax] = ()
    """WebSocket JSON-RPC endpoints (EVM): new heads arrive by `eth_subscribe("newHeads")`,
    tried in order; without any (or while none answers), the head is polled."""
    poll_interval: float | None = Field(default=None, gt=0, le=3_600)
    """Seconds between head polls; default by family: evm 2, starknet 10, bitcoin 30."""
    full_refresh_blocks: int = Field(default=64, ge=1, le=1_000_000)
    """Every this many blocks, every watched row is read whatever the pre-filter says (it
    catches balances that change without a Transfer event: rebasing tokens)."""

    @field_validator("ws_urls")
    @classmethod
    def _ws_urls(cls, urls: tuple[Secret, ...]) -> tuple[Secret, ...]:
        if any(u.scheme not in {"ws", "wss"} for u in urls):
            raise ValueError("must be a list of ws(s) URLs")
        return urls

    def head_interval(self, family: str) -> float:
        """`poll_interval`, or the family's default."""
        return self.poll_interval if self.poll_interval is not None else POLL_INTERVALS[family]


class LiveConfig(Section):
    """`[live]`: what one process allows the subscribers of live balances."""

    max_pending: int = Field(default=1_000, ge=1, le=1_000_000)
    """Values a subscription may let collapse unread (a newer value of the same row
    replacing one it had not taken) before it is closed: a client that stops reading."""
    max_sockets: int = Field(default=1_000, ge=1, le=1_000_000)
    """Open WebSockets per worker; beyond, an upgrade is refused with HTTP 503 (uvicorn's
    `[server] max_connections` does not count WebSockets)."""
    init_timeout: float = Field(default=3.0, gt=0, le=60)
    """Seconds a WebSocket has, once open, to send `connection_init`."""
    heartbeat: float = Field(default=5.0, gt=0, le=60)
    """Seconds between the empty keep-alive parts of a multipart subscription."""
