"""Anonymous limits in this process alone: the fallback while the shared store is down.

Keyed requests are refused while their store cannot answer (their credits cannot be
checked); anonymous ones are still limited, per process, so an outage of Redis neither stops
the service nor lifts its limits. At most `max_subjects` subjects are remembered; the least
recently seen go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from metering.store import Charge, Verdict, decide
from metering.windows import State


class MemoryLimits:
    def __init__(self, max_subjects: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._states: OrderedDict[tuple[str, str, int], State] = OrderedDict()
        self._max = max_subjects
        self._clock = clock

    def charge(self, charge: Charge) -> Verdict:
        """Like `MeterStore.charge` for an anonymous charge (there are no credits here)."""
        now = round(self._clock() * 1000)
        keys = [(charge.subject, u.rate_class, u.period) for u in charge.usage]
        quotas, states = decide(charge.usage, [self._states.get(key) for key in keys], now)
        if states is None:
            return Verdict("rate_limited", quotas, now=now)
        for key, state in zip(keys, states, strict=True):
            self._states[key] = state
            self._states.move_to_end(key)
        while len(self._states) > self._max:
            self._states.popitem(last=False)
        return Verdict("admitted", quotas, now=now)
