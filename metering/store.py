"""Where keys, counters and credits live, as two narrow protocols and their vocabulary.

`MeterStore` is what a request needs: find a key by digest, then check and charge in one
atomic step. `KeyAdmin` is what the CLI needs. Both stores implement both:

    redis_store.RedisStore     one Lua script per charge; shared by every worker and replica
    sqlite_store.SqliteStore   one IMMEDIATE transaction per charge; every worker of a machine

A store that cannot answer raises `StoreUnavailable`; it never guesses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from core.text import excerpt
from metering.keys import MAX_CREDITS, KeyRecord, credits_in_range, over_maximum
from metering.windows import Quota, State, evaluate
from settings import RateClass


class StoreUnavailable(Exception):
    """The store did not answer (down, stalled, locked): nothing was decided or written."""


class AdminError(ValueError):
    """An admin operation that cannot be done: the message says why."""


NOT_REVOKED = "key {name!r} is active: revoke it first (`keys revoke {name}`), then delete it"
"""Why `delete` refuses an active key."""


@dataclass(frozen=True)
class Usage:
    """What a request asks of one rate class."""

    rate_class: RateClass
    units: int
    limit: int
    period: int
    """Milliseconds."""


@dataclass(frozen=True)
class Charge:
    """One request's atomic check-and-charge."""

    subject: str
    """Whose counters: `key:<digest>` or `ip:<address or /64>`."""
    digest: str | None
    """The key's digest (its credits and revocation are checked too); `None`: anonymous."""
    usage: tuple[Usage, ...]
    cost: int
    """Credits: the request's balance lookups."""


Quotas = tuple[tuple[RateClass, Quota], ...]


def decide(
    usage: Sequence[Usage], states: Sequence[State | None], now: int
) -> tuple[Quotas, list[State] | None]:
    """Every class's quota, and the states to save: `None` when any class refuses (then
    nothing may be saved). For the stores that decide in Python."""
    decided = [
        evaluate(state, u.units, u.limit, u.period, now)
        for u, state in zip(usage, states, strict=True)
    ]
    quotas = tuple((u.rate_class, quota) for u, (_, quota) in zip(usage, decided, strict=True))
    admitted = all(quota.admitted for _, quota in quotas)
    return quotas, [state for state, _ in decided] if admitted else None


def stored_record(
    digest: str,
    name: str,
    plan: str | None,
    credits: object,
    revoked: bool,
    counts: tuple[object, object, object, object],
) -> KeyRecord:
    """A key's record from what a store holds (`counts`: created, last used, requests and
    credits spent, as stored), whatever that is: a field that does not read as what it
    should makes the record `damaged`, never an exception (one bad key must not stop
    `keys list`, nor be served as unlimited)."""
    balance = None if credits is None else credits_in_range(credits)
    damaged = unreadable(credits) if credits is not None and balance is None else None
    record = KeyRecord(digest, name, plan or None, balance, revoked, 0.0, damaged=damaged)
    created, last_used, requests, spent = counts
    try:
        return replace(
            record,
            created=float(str(created or 0)),
            last_used=float(str(last_used)) if last_used else None,
            requests=int(str(requests or 0)),
            spent=int(str(spent or 0)),
        )
    except ValueError:
        return replace(record, damaged=damaged or "its record has a malformed date or count")


def unreadable(stored: object) -> str:
    """Why a stored balance is no balance (`KeyRecord.damaged`)."""
    return (
        f"its stored balance {excerpt(str(stored))} is not a whole number of credits from 0 to "
        f"{MAX_CREDITS:,}"
    )


def check_credit(record: KeyRecord, amount: int) -> None:
    """Refuse a credit (or debit) of `amount` the key's balance cannot take."""
    name = record.name
    if record.damaged:
        raise AdminError(
            f"key {name!r} is unreadable: {record.damaged}; revoke it and create a new one"
        )
    if record.credits is None:
        raise AdminError(f"key {name!r} has no credit balance (it is never refused for credits)")
    if record.credits + amount < 0:
        raise AdminError(f"key {name!r} has {record.credits} credits: cannot take {-amount}")
    if record.credits + amount > MAX_CREDITS:
        raise AdminError(f"key {name!r}: {over_maximum(record.credits + amount)}")


Outcome = Literal["admitted", "rate_limited", "insufficient_credits", "invalid_key", "unreadable"]


@dataclass(frozen=True)
class Verdict:
    """The decision, with what the response headers report."""

    outcome: Outcome
    quotas: Quotas = ()
    credits: int | None = None
    """The key's balance after the charge (or as it stands, when refused); `None`: no
    balance to report (anonymous, or a key without one)."""
    now: int = 0
    """The store's clock at the decision (unix ms): quotas' times are on it."""


class MeterStore(Protocol):
    """Atomic per-request metering.

    `charge` checks, in one step that no concurrent request can interleave with, that the
    key (if any) exists and is not revoked, that its balance covers `cost`, and that every
    usage fits its window; only then does it count the usage and subtract the cost. A refused
    charge writes nothing.
    """

    @property
    def where(self) -> str:
        """Where the keys are, for people: the SQLite file's path, or "Redis"."""
        ...

    async def lookup(self, digest: str) -> KeyRecord | None: ...

    async def charge(self, charge: Charge) -> Verdict: ...

    async def ping(self) -> None:
        """Return when the store answers; `StoreUnavailable` when it does not (readiness)."""
        ...

    async def aclose(self) -> None: ...


class KeyAdmin(Protocol):
    """Key management for the CLI. A name is taken until its key is deleted, and only a
    revoked key can be deleted (so a name never silently changes hands while in use)."""

    @property
    def where(self) -> str: ...

    async def create(self, record: KeyRecord) -> None: ...

    async def records(self) -> list[KeyRecord]: ...

    async def revoke(self, name: str) -> KeyRecord: ...

    async def delete(self, name: str) -> KeyRecord: ...

    async def credit(self, name: str, amount: int) -> KeyRecord: ...
