"""What each caller holds open in this process: live subscriptions and the lookups they watch.

A subscription is a standing claim on the process (its rows are read every block), so beside
the `subscribe` rate limit, a key (or a client address, for callers without one) may hold at
most `[limits] max_subscriptions_per_caller` subscriptions and `max_watched_lookups` lookups
at once. The counts are this process's: with several workers or replicas each counts its
own (a subscription lives on one connection, to one process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from metering.meter import Refusal


@dataclass
class _Holding:
    subscriptions: int = 0
    lookups: int = 0


@dataclass(eq=False)
class Held:
    """One open subscription's claim; give it back with `OpenStreams.release`."""

    subject: str
    lookups: int


@dataclass
class OpenStreams:
    """Per-caller counts of open subscriptions and watched lookups."""

    max_subscriptions: int
    max_lookups: int
    _holdings: dict[str, _Holding] = field(default_factory=dict)

    def hold(self, subject: str, lookups: int) -> Held:
        """Claim one subscription of `lookups` for `subject`, or `Refusal` (429) when that
        would pass a limit (nothing is claimed then)."""
        holding = self._holdings.get(subject, _Holding())
        if holding.subscriptions + 1 > self.max_subscriptions:
            raise _refused(
                f"this caller has {holding.subscriptions} live subscriptions open, the most "
                "allowed: end one first",
                self.max_subscriptions,
            )
        if holding.lookups + lookups > self.max_lookups:
            raise _refused(
                f"this caller watches {holding.lookups} lookups and this subscription adds "
                f"{lookups}; at most {self.max_lookups} at once: end one first",
                self.max_lookups,
            )
        holding.subscriptions += 1
        holding.lookups += lookups
        self._holdings[subject] = holding
        return Held(subject, lookups)

    def extend(self, held: Held, lookups: int) -> int:
        """Add up to `lookups` to an open subscription's claim (rows discovery found beyond
        its price), as many as its caller's limit leaves room for; how many were added."""
        holding = self._holdings.get(held.subject)
        if holding is None or lookups <= 0:
            return 0
        added = max(0, min(lookups, self.max_lookups - holding.lookups))
        holding.lookups += added
        held.lookups += added
        return added

    def release(self, held: Held) -> None:
        holding = self._holdings.get(held.subject)
        if holding is None:
            return
        holding.subscriptions -= 1
        holding.lookups -= held.lookups
        if holding.subscriptions <= 0:
            del self._holdings[held.subject]

    def held(self, subject: str) -> tuple[int, int]:
        """(open subscriptions, watched lookups) of `subject`."""
        holding = self._holdings.get(subject, _Holding())
        return holding.subscriptions, holding.lookups


def _refused(message: str, limit: int) -> Refusal:
    return Refusal(429, "RATE_LIMITED", message, retryable=True, extensions={"limit": limit})
