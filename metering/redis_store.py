"""Keys, counters and credits in Redis: one script per request, shared by every replica.

Layout (every key of one subject shares its hash tag, so one cluster slot, so one script):

    bg:v1:{key:<digest>}:record            hash: name plan credits revoked created ...
    bg:v1:{<subject>}:rl:<class>:<period>  hash: w c p (windows.State), expires after 2 periods
    bg:v1:{<subject>}:once:<token>         one call's reply, for a client that re-sends it
    bg:v1:keys                             hash: name -> digest (the CLI's index)

`CHARGE` (redis_scripts.py) is `windows.evaluate` in Lua plus the key and credit checks, run
atomically with the Redis server's clock (one clock for every replica). Nothing is written
unless everything fits. Calls go through the shared Redis `Breaker`: a stalled Redis costs
one timeout, then `StoreUnavailable` at once until it answers again.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.exceptions import RedisError

from chains.cache.breaker import Breaker
from chains.cache.clients import RedisClient
from metering.keys import MAX_CREDITS, KeyRecord, over_maximum
from metering.redis_scripts import CHARGE, CREDIT
from metering.store import (
    NOT_REVOKED,
    AdminError,
    Charge,
    StoreUnavailable,
    Verdict,
    check_credit,
    stored_record,
)
from metering.windows import Quota
from settings import RateClass

_T = TypeVar("_T")
_INDEX = "bg:v1:keys"
_FIELDS = ("name", "plan", "credits", "revoked", "created", "last_used", "requests", "spent")


def _record_key(digest: str) -> str:
    return f"bg:v1:{{key:{digest}}}:record"


def _once_key(subject: str) -> str:
    """A new call's own key: the scripts keep their reply there for a re-sent call."""
    return f"bg:v1:{{{subject}}}:once:{secrets.token_hex(8)}"


def _window_key(subject: str, rate_class: RateClass, period: int) -> str:
    return f"bg:v1:{{{subject}}}:rl:{rate_class}:{period}"


class RedisStore:
    """`MeterStore` and `KeyAdmin` on Redis; `breaker` is None for the CLI (errors surface)."""

    where = "Redis"

    def __init__(self, client: RedisClient, breaker: Breaker | None = None) -> None:
        self._client = client
        self._breaker = breaker
        self._charge = client.register_script(CHARGE)
        self._credit = client.register_script(CREDIT)

    async def lookup(self, digest: str) -> KeyRecord | None:
        values = await self._guarded(lambda: self._client.hmget(_record_key(digest), _FIELDS))
        return _record(digest, values)

    async def charge(self, charge: Charge) -> Verdict:
        keys = [f"bg:v1:{{{charge.subject}}}:record"]  # a keyed subject's record; else unused
        args: list[str | int] = ["1" if charge.digest else "0", charge.cost]
        for usage in charge.usage:
            keys.append(_window_key(charge.subject, usage.rate_class, usage.period))
            args += [usage.units, usage.limit, usage.period]
        args.append(MAX_CREDITS)
        keys.append(_once_key(charge.subject))
        reply = await self._guarded(lambda: self._charge(keys=keys, args=args))
        return _verdict(reply, charge)

    async def ping(self) -> None:
        """Asks Redis itself, past the breaker: every worker then sees the same answer (one
        worker's breaker may still be open after Redis came back)."""
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("redis") from exc

    async def aclose(self) -> None:
        """The client belongs to the caller (the process's one Redis client)."""

    async def create(self, record: KeyRecord) -> None:
        if record.credits is not None and record.credits > MAX_CREDITS:
            raise AdminError(over_maximum(record.credits))
        if not await self._client.hsetnx(_INDEX, record.name, record.digest):
            raise AdminError(
                f"a key named {record.name!r} exists (a name is taken until its key is "
                "revoked and deleted)"
            )
        fields: dict[str, str | int | float] = {
            "name": record.name,
            "plan": record.plan or "",
            "revoked": 0,
            "created": record.created,
            "requests": 0,
            "spent": 0,
        }
        if record.credits is not None:
            fields["credits"] = record.credits
        await self._client.hset(_record_key(record.digest), mapping=fields)  # type: ignore[arg-type]

    async def records(self) -> list[KeyRecord]:
        index = await self._client.hgetall(_INDEX)
        found = []
        for digest in sorted(_text(d) for d in index.values()):
            record = _record(digest, await self._client.hmget(_record_key(digest), _FIELDS))
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: r.created)

    async def revoke(self, name: str) -> KeyRecord:
        digest = await self._digest(name)
        await self._client.hset(_record_key(digest), "revoked", 1)
        return await self._existing(digest, name)

    async def delete(self, name: str) -> KeyRecord:
        """Revocation is final, so checking it and then deleting needs no transaction. The
        name goes first: stopped halfway, what is left is a revoked record no name leads to
        (still refused), never a name that leads nowhere and can be neither made nor deleted."""
        digest = await self._digest(name)
        record = await self._existing(digest, name)
        if not record.revoked:
            raise AdminError(NOT_REVOKED.format(name=name))
        await self._client.hdel(_INDEX, name)
        await self._client.delete(_record_key(digest))
        return record

    async def credit(self, name: str, amount: int) -> KeyRecord:
        if abs(amount) > MAX_CREDITS:
            raise AdminError(over_maximum(abs(amount)))
        digest = await self._digest(name)
        keys = [_record_key(digest), _once_key(f"key:{digest}")]
        reply = await self._credit(keys=keys, args=[amount, MAX_CREDITS])
        if reply[0] == b"missing":
            raise AdminError(f"no key named {name!r}")
        record = await self._existing(digest, name)
        if reply[0] != b"ok":  # the script refused: say why, from what it refused
            check_credit(record, amount)
            raise AdminError(f"key {name!r} changed meanwhile: try again")
        return record

    async def _digest(self, name: str) -> str:
        digest = await self._client.hget(_INDEX, name)
        if digest is None:
            raise AdminError(f"no key named {name!r}")
        return _text(digest)

    async def _existing(self, digest: str, name: str) -> KeyRecord:
        record = _record(digest, await self._client.hmget(_record_key(digest), _FIELDS))
        if record is None:
            raise AdminError(f"no key named {name!r}")
        return record

    async def _guarded(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        if self._breaker is None:
            return await operation()
        missing = object()
        result = await self._breaker.run(operation, missing)
        if result is missing:
            raise StoreUnavailable("redis")
        return result  # type: ignore[return-value]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _record(digest: str, values: list[Any]) -> KeyRecord | None:
    name, plan, credits, revoked, created, last_used, requests, spent = (
        v.decode(errors="replace") if isinstance(v, bytes) else None for v in values
    )
    if name is None or revoked is None:
        return None
    counts = (created, last_used, requests, spent)
    return stored_record(digest, name, plan, credits, revoked != "0", counts)


def _verdict(reply: list[Any], charge: Charge) -> Verdict:
    outcome = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
    now = int(reply[1])
    if outcome == "invalid_key":
        return Verdict("invalid_key", now=now)
    if outcome == "unreadable":
        return Verdict("unreadable", now=now)
    if outcome == "insufficient_credits":
        return Verdict("insufficient_credits", credits=int(reply[2]), now=now)
    numbers = [int(v) for v in reply[3:]]
    quotas = tuple(
        (usage.rate_class, _quota(numbers[4 * i : 4 * i + 4]))
        for i, usage in enumerate(charge.usage)
    )
    credits = int(reply[2])
    return Verdict(
        "admitted" if outcome == "admitted" else "rate_limited",
        quotas,
        credits if charge.digest and credits >= 0 else None,
        now,
    )


def _quota(values: list[int]) -> Quota:
    limit, left, reset, retry = values
    if left >= 0:
        return Quota(limit, left, reset, None)
    return Quota(limit, -1, reset, None if retry == -2 else retry)
