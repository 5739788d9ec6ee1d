"""Failover across a chain's endpoints: try in order, cool down the ones that failed.

Used by every upstream transport (JSON-RPC, Esplora REST). Only `UpstreamError` (node
trouble: timeouts, 429/5xx, garbage) moves on to the next endpoint; any other error is the
chain's definite answer and is raised at once. Endpoint URLs may hold keys: logs use labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from chains.errors import UpstreamError
from chains.metrics import Metrics
from settings import Secret

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class Endpoints:
    def __init__(
        self, chain: str, endpoints: Sequence[Secret], metrics: Metrics, *, cooldown: float
    ) -> None:
        if not endpoints:
            raise ValueError(f"{chain}: at least one endpoint is required")
        self._chain = chain
        self._endpoints = tuple(endpoints)
        self._metrics = metrics
        self._cooldown = cooldown
        self._failed_at: dict[int, float] = {}

    async def first_answer(self, attempt: Callable[[Secret, bool], Awaitable[_T]]) -> _T:
        """`attempt(endpoint, is_last)` on each endpoint until one does not fail over."""
        order = self._order()
        last: UpstreamError | None = None
        for position, index in enumerate(order):
            endpoint = self._endpoints[index]
            try:
                answer = await attempt(endpoint, position == len(order) - 1)
            except UpstreamError as exc:
                self._metrics.upstream_errors.inc(chain=self._chain, code=exc.code)
                self._failed_at[index] = time.monotonic()
                log.warning("%s: endpoint %s failed: %s", self._chain, endpoint.label, exc.message)
                last = exc
                continue
            self._failed_at.pop(index, None)
            return answer
        assert last is not None
        raise last

    def _order(self) -> list[int]:
        """Healthy endpoints in configured order, then cooling-down ones (oldest failure first)."""
        now = time.monotonic()
        cooling = {i: t for i, t in self._failed_at.items() if now - t < self._cooldown}
        healthy = [i for i in range(len(self._endpoints)) if i not in cooling]
        return healthy + sorted(cooling, key=cooling.__getitem__)
