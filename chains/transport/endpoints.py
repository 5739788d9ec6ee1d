"""Failover across a chain's endpoints, each behind a small circuit breaker.

Every upstream transport (JSON-RPC, Esplora REST) asks `Endpoints.first_answer` to run an
attempt on one endpoint after another until one answers. Only `UpstreamError` (node trouble:
timeouts, 429/5xx, garbage, a wrong id or a malformed answer) moves on to the next endpoint;
any other error is the chain's definite answer and is raised at once.

Each endpoint's health, per process:

    closed     tried in configured order; one that failed lately goes to the back of the line
               for `cooldown` seconds
    open       after `threshold` failures in a row: skipped for `cooldown` seconds, so a dead
               node costs nothing instead of a timeout per request
    half-open  after the cool-down: the next request probes it (one at a time); success
               closes it, failure opens it again

When every endpoint is open the call fails at once (retryable) instead of waiting. States
are exposed on `/metrics` (`endpoint_state`, `endpoint_transitions_total`) and on
`/health/ready`. Endpoint URLs may hold keys: logs and labels use position and scheme://host.

Only the node's own faults count: no answer (refused, reset, timed out), HTTP 429/5xx,
garbage. A failure the request may have caused (`UpstreamError.shaped`: an answer over the
size cap, an error the node answered with, a slow log scan) fails over, and counts against
the endpoint only once a later endpoint answers the same request; when none does, it was
the request's, and no endpoint pays for it. So no request a caller shapes (a dense log
range, a token contract that burns its gas) can open a circuit that others depend on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from core.errors import UpstreamError
from core.metrics import Metrics
from settings import Secret

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class State(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass
class _Health:
    label: str
    failures: int = 0
    failed_at: float | None = None
    state: State = State.CLOSED
    probing: bool = False


class Endpoints:
    """A chain's endpoints in the order to try them, with their health."""

    def __init__(
        self,
        chain: str,
        endpoints: Sequence[Secret],
        metrics: Metrics,
        *,
        cooldown: float,
        threshold: int = 3,
        clock: Callable[[], float] = time.monotonic,
        role: str = "",
    ) -> None:
        if not endpoints:
            raise ValueError(f"{chain}: at least one endpoint is required")
        self._chain = chain
        self._endpoints = tuple(endpoints)
        self._metrics = metrics
        self._cooldown = cooldown
        self._threshold = threshold
        self._clock = clock
        # Reads at past blocks and discovery scans have endpoints of their own (their own
        # circuits): their labels say so (`role`), or they would overwrite each other's state
        # on /metrics and readiness.
        prefix = f"{role} " if role else ""
        self._health = [_Health(f"{prefix}{i}:{e.label}") for i, e in enumerate(self._endpoints)]
        # Nothing is published until a circuit changes: a worker that starts late knows
        # nothing yet, and must not overwrite what another worker learned (the readiness of
        # a replica reads the state any worker set last).

    def states(self) -> dict[str, str]:
        """Each endpoint's state by label (for readiness), after due transitions."""
        self._due_probes()
        return {h.label: h.state.name.lower().replace("_", "-") for h in self._health}

    async def first_answer(self, attempt: Callable[[Secret, bool], Awaitable[_T]]) -> _T:
        """`attempt(endpoint, is_last)` on each endpoint until one does not fail over."""
        order = self._order()
        if not order:
            wait = self._cooldown - (self._clock() - min(self._failed_times(), default=0))
            raise UpstreamError(
                f"every {self._chain} endpoint is failing; "
                f"the next probe is in {max(wait, 0):.0f}s",
                chain=self._chain,
            )
        last: UpstreamError | None = None
        suspects: list[tuple[_Health, UpstreamError]] = []
        for position, index in enumerate(order):
            health = self._health[index]
            probe = health.state is State.HALF_OPEN
            health.probing |= probe
            try:
                answer = await attempt(self._endpoints[index], position == len(order) - 1)
            except UpstreamError as exc:
                self._report(health, exc)
                if exc.shaped:  # judged by whether another endpoint answers the same
                    suspects.append((health, exc))
                else:
                    self._failed(health)
                last = exc
                continue
            finally:
                if probe:
                    health.probing = False
            for suspect, _ in suspects:  # another endpoint answered: it was the node
                self._failed(suspect)
            self._succeeded(health)
            return answer
        assert last is not None
        raise last

    def _order(self) -> list[int]:
        """Closed endpoints that did not fail lately (configured order), half-open ones not
        already being probed, then closed ones that failed lately (oldest failure first)."""
        self._due_probes()
        now = self._clock()
        fresh: list[int] = []
        probes: list[int] = []
        lately: list[int] = []
        for index, health in enumerate(self._health):
            if health.state is State.HALF_OPEN and not health.probing:
                probes.append(index)
            elif health.state is State.CLOSED:
                recent = health.failed_at is not None and now - health.failed_at < self._cooldown
                (lately if recent else fresh).append(index)
        lately.sort(key=lambda i: self._health[i].failed_at or 0)
        return fresh + probes + lately

    def _due_probes(self) -> None:
        now = self._clock()
        for health in self._health:
            since = health.failed_at
            if health.state is State.OPEN and since is not None and now - since >= self._cooldown:
                self._move(health, State.HALF_OPEN)

    def _report(self, health: _Health, error: UpstreamError) -> None:
        self._metrics.upstream_errors.inc(chain=self._chain, code=error.code)
        log.warning("%s: endpoint %s failed: %s", self._chain, health.label, error.message)

    def _failed(self, health: _Health) -> None:
        health.failures += 1
        health.failed_at = self._clock()
        if health.state is State.HALF_OPEN or health.failures >= self._threshold:
            self._move(health, State.OPEN)

    def _succeeded(self, health: _Health) -> None:
        health.failures, health.failed_at = 0, None
        if health.state is not State.CLOSED:
            self._move(health, State.CLOSED)

    def _move(self, health: _Health, state: State) -> None:
        if health.state is state:
            return
        health.state = state
        name = state.name.lower().replace("_", "-")
        log.warning("%s: endpoint %s is now %s", self._chain, health.label, name)
        self._metrics.endpoint_transitions.inc(chain=self._chain, endpoint=health.label, state=name)
        self._publish(health)

    def _publish(self, health: _Health) -> None:
        self._metrics.endpoint_state.labels(chain=self._chain, endpoint=health.label).set(
            health.state.value
        )

    def _failed_times(self) -> list[float]:
        return [h.failed_at for h in self._health if h.failed_at is not None]
