"""The metering steps of a request: identify the caller, then admit (or refuse) and charge.

    identify(headers, peer)      before any parsing: a missing (when required), malformed,
                                 unknown or revoked key is 401 INVALID_API_KEY
    admit(caller, usage, cost)   after the static cost, before any upstream I/O: one atomic
                                 check-and-charge; 402 INSUFFICIENT_CREDITS, 429 RATE_LIMITED

Both raise `Refusal` (an HTTP status, a GraphQL error code, headers) and otherwise return
what the response reports: `X-RateLimit-*` for the tightest class the request used,
`X-Credits-Charged`, and `X-Credits-Remaining` for keys with a balance.

When the store cannot answer, keyed requests get 503 METERING_UNAVAILABLE (their credits
cannot be checked, and a paying caller is never charged blind), and anonymous ones are
limited by this process alone (`MemoryLimits`) until it is back.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.metrics import Metrics
from metering import keys
from metering.caller import Caller, ConflictingKeys, Network, client_subject, presented_key
from metering.keys import KeyRecord
from metering.memory import MemoryLimits
from metering.store import Charge, MeterStore, StoreUnavailable, Usage, Verdict
from metering.windows import Quota
from settings import Rate, RateClass, RateLimitsConfig

log = logging.getLogger(__name__)

RESPONSE_HEADERS = (
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-credits-charged",
    "x-credits-remaining",
)
"""Every header metering may add to a response (CORS exposes them to browsers)."""

_PERIOD_NAMES = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


@dataclass
class Refusal(Exception):
    """The request is refused before it reads anything; nothing was charged."""

    status: int
    code: str
    message: str
    retryable: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class Meter:
    """Keys, limits and credits for one process, over a shared `MeterStore`."""

    def __init__(
        self,
        store: MeterStore,
        *,
        limits: RateLimitsConfig,
        required: bool,
        trusted_proxies: Sequence[Network],
        metrics: Metrics,
        unavailable_retry: float,
        fallback: MemoryLimits | None = None,
        record_ttl: float = 10.0,
        max_records: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._limits = limits
        self._required = required
        self._trusted = tuple(trusted_proxies)
        self._metrics = metrics
        self._unavailable_retry = max(1, math.ceil(unavailable_retry))
        self._fallback = fallback or MemoryLimits()
        self._records: OrderedDict[str, tuple[KeyRecord, float]] = OrderedDict()
        self._record_ttl = record_ttl
        self._max_records = max_records
        self._clock = clock
        self._unknown_plans: set[str] = set()
        self._unreadable_keys: set[str] = set()

    async def identify(
        self, headers: Iterable[tuple[str, str]], peer: str | None, forwarded_for: Sequence[str]
    ) -> Caller:
        """The caller: a valid key's, or the client address's when no key is presented."""
        try:
            key = presented_key(headers)
        except ConflictingKeys as exc:
            raise self._invalid(str(exc)) from None
        if key is None:
            if self._required:
                raise self._invalid(
                    "this service needs an API key: send it as `x-api-key`, `api-key` or "
                    "`Authorization: Bearer`"
                )
            return Caller(client_subject(peer, forwarded_for, self._trusted))
        digest = keys.digest(key) if keys.well_formed(key) else None
        record = await self._record(digest) if digest else None
        if record is None or record.revoked:
            raise self._invalid(self._unknown_key())
        if record.damaged:
            self._metrics.key_requests.inc(key=record.name, outcome="unavailable")
            raise self._unreadable(record)
        return Caller(f"key:{record.digest}", record)

    async def admit(
        self, caller: Caller, usage: Mapping[RateClass, int], cost: int
    ) -> dict[str, str]:
        """Check and charge in one step; the response headers, or `Refusal`."""
        table = self._table(caller.record)
        charge = Charge(
            subject=caller.subject,
            digest=caller.record.digest if caller.record else None,
            usage=tuple(
                _usage(rate_class, units, table[rate_class])
                for rate_class, units in usage.items()
                if units and rate_class in table
            ),
            cost=cost if caller.record else 0,
        )
        if charge.digest is None and not charge.usage:
            return {"x-credits-charged": "0"}  # nothing to count: no store round trip
        verdict = await self._decide(caller, charge)
        outcome = "unavailable" if verdict.outcome == "unreadable" else verdict.outcome
        self._metrics.key_requests.inc(key=caller.name, outcome=outcome)
        if verdict.outcome == "invalid_key":  # revoked since its record was remembered
            self._records.pop(charge.digest or "", None)
            raise _invalid_key(self._unknown_key())
        if verdict.outcome == "unreadable" and caller.record is not None:
            raise self._unreadable(caller.record)
        if verdict.outcome == "insufficient_credits":
            raise _insufficient(cost, verdict.credits or 0)
        if verdict.outcome == "rate_limited":
            raise _rate_limited(verdict, charge)
        self._metrics.key_credits.inc(charge.cost, key=caller.name)
        headers = {"x-credits-charged": str(charge.cost)}
        if verdict.credits is not None:
            headers["x-credits-remaining"] = str(verdict.credits)
        return headers | _limit_headers(verdict.quotas)

    async def _decide(self, caller: Caller, charge: Charge) -> Verdict:
        try:
            return await self.store.charge(charge)
        except StoreUnavailable:
            if charge.digest is not None:
                self._metrics.key_requests.inc(key=caller.name, outcome="unavailable")
                raise self._unavailable() from None
            return self._fallback.charge(charge)

    async def _record(self, digest: str) -> KeyRecord | None:
        """The key's record, remembered for `record_ttl` (the charge re-checks revocation)."""
        now = self._clock()
        known = self._records.get(digest)
        if known is not None and known[1] > now:
            return known[0]
        try:
            record = await self.store.lookup(digest)
        except StoreUnavailable:
            raise self._unavailable() from None
        if record is not None and not record.revoked:
            self._records[digest] = (record, now + self._record_ttl)
            self._records.move_to_end(digest)
            while len(self._records) > self._max_records:
                self._records.popitem(last=False)
        return record

    def _table(self, record: KeyRecord | None) -> Mapping[RateClass, Rate]:
        if record is None:
            return self._limits.anonymous
        if record.plan is None:
            return {}
        plan = self._limits.plans.get(record.plan)
        if plan is None:
            if record.plan not in self._unknown_plans:
                self._unknown_plans.add(record.plan)
                log.warning(
                    "key %r has plan %r, which [rate_limits.plans] does not define: "
                    "it gets the anonymous limits",
                    record.name,
                    record.plan,
                )
            return self._limits.anonymous
        return plan

    def _unknown_key(self) -> str:
        """Names the store searched (never the key): a key made with another `--config`
        lives in another store, and this says which one the service reads."""
        return (
            f"unknown or revoked API key (this service's keys are in {self.store.where}: "
            "make them with `balance-graph keys create` and this service's --config)"
        )

    def _unavailable(self) -> Refusal:
        return Refusal(
            503,
            "METERING_UNAVAILABLE",
            "API keys cannot be checked right now; retry shortly",
            retryable=True,
            headers={"retry-after": str(self._unavailable_retry)},
        )

    def _unreadable(self, record: KeyRecord) -> Refusal:
        """A key whose stored balance is no balance: refused until the operator repairs it
        (retrying will not help; serving it as unlimited would give credits away)."""
        if record.name not in self._unreadable_keys:
            self._unreadable_keys.add(record.name)
            log.error("key %r cannot be served: %s", record.name, record.damaged)
        return Refusal(
            503,
            "METERING_UNAVAILABLE",
            "this API key's credit balance cannot be read from the key store; the operator "
            "must repair it (`balance-graph keys list` shows it)",
        )

    def _invalid(self, message: str) -> Refusal:
        self._metrics.key_requests.inc(key="invalid", outcome="invalid_key")
        return _invalid_key(message)


def _invalid_key(message: str) -> Refusal:
    return Refusal(401, "INVALID_API_KEY", message, headers={"www-authenticate": "Bearer"})


def _usage(rate_class: RateClass, units: int, rate: Rate) -> Usage:
    return Usage(rate_class, units, rate.count, rate.period * 1000)


def _insufficient(cost: int, credits: int) -> Refusal:
    return Refusal(
        402,
        "INSUFFICIENT_CREDITS",
        f"this request costs {cost} credits (one per balance lookup) and the key has {credits}",
        headers={"x-credits-charged": "0", "x-credits-remaining": str(credits)},
        extensions={"cost": cost, "credits": credits},
    )


def _rate_limited(verdict: Verdict, charge: Charge) -> Refusal:
    """429 for the refusing class that frees up last (or can never fit this request)."""
    refusing = [
        (usage, quota)
        for usage, (_, quota) in zip(charge.usage, verdict.quotas, strict=True)
        if not quota.admitted
    ]
    usage, quota = max(refusing, key=lambda uq: math.inf if uq[1].retry is None else uq[1].retry)
    per = _PERIOD_NAMES.get(usage.period // 1000, f"{usage.period // 1000} seconds")
    headers = {"x-credits-charged": "0"} | _quota_headers(quota)
    if verdict.credits is not None:  # a key with a balance: as on every other answer
        headers["x-credits-remaining"] = str(verdict.credits)
    extensions: dict[str, object] = {"rateClass": usage.rate_class, "limit": usage.limit}
    if quota.retry is None:
        message = (
            f"this request makes {usage.units} `{usage.rate_class}` calls and the limit is "
            f"{usage.limit} per {per}: split it"
        )
        return Refusal(429, "RATE_LIMITED", message, headers=headers, extensions=extensions)
    wait = max(1, math.ceil((quota.retry - verdict.now) / 1000))
    message = (
        f"rate limit of {usage.limit} `{usage.rate_class}` calls per {per} reached: "
        f"retry in {wait} s"
    )
    return Refusal(
        429,
        "RATE_LIMITED",
        message,
        retryable=True,
        headers=headers | {"retry-after": str(wait)},
        extensions=extensions | {"retryAfter": wait},
    )


def _limit_headers(quotas: Sequence[tuple[RateClass, Quota]]) -> dict[str, str]:
    """The headers of the tightest class: fewest requests left, then the smallest limit."""
    if not quotas:
        return {}
    _, tightest = min(quotas, key=lambda cq: (cq[1].remaining, cq[1].limit))
    return _quota_headers(tightest)


def _quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(quota.limit),
        "x-ratelimit-remaining": str(max(quota.remaining, 0)),
        "x-ratelimit-reset": str(math.ceil(quota.reset / 1000)),
    }
