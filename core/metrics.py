"""Every metric the service exposes on `/metrics`, on `prometheus_client`.

One `Metrics` per app, with its own registry, so tests can run many apps in one process.
Under `balance-graph serve` the CLI sets `PROMETHEUS_MULTIPROC_DIR` before any worker starts:
values then live in files every worker writes, and `/metrics` on any worker reports the sum
over all of them (one truth for `--workers N`). The circuit-state gauges keep the value set
most recently by any worker (`mostrecent`): what the service last learned of an endpoint,
whichever worker learned it; readiness reads them back (`latest`) so every worker answers
the same. Labels never carry secrets: endpoints are named by position and scheme://host,
API keys by their name.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Final, Literal

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

Labels = frozenset[tuple[str, str]]
SHARED_GAUGE_MODE: Final[Literal["mostrecent"]] = "mostrecent"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0)
"""Push lag is measured from the block's timestamp (whole seconds): sub-second buckets only
tell the fastest pushes apart."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class CounterFamily:
    """A labelled counter, readable back (tests and the benchmark count upstream requests)."""

    metric: Counter

    def inc(self, amount: int = 1, **labels: str) -> None:
        self.metric.labels(**labels).inc(amount)

    def get(self, **labels: str) -> int:
        """The count for an exact label set (0 when never incremented)."""
        return round(sum(value for series, value in self._series() if series == labels))

    def total(self, **labels: str) -> int:
        """The sum over every series whose labels include `labels`."""
        wanted = labels.items()
        return round(sum(value for series, value in self._series() if wanted <= series.items()))

    def _series(self) -> list[tuple[dict[str, str], float]]:
        return [
            (sample.labels, sample.value)
            for family in self.metric.collect()
            for sample in family.samples
            if sample.name.endswith("_total")
        ]


def _counter(registry: CollectorRegistry, name: str, doc: str, *labels: str) -> CounterFamily:
    return CounterFamily(Counter(name, doc, labels, registry=registry))


@dataclass
class Metrics:
    """The service's metrics (one instance per app)."""

    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        self._upstreams(self.registry)
        self._caches(self.registry)
        self._requests(self.registry)
        self._live(self.registry)

    def _upstreams(self, r: CollectorRegistry) -> None:
        self.upstream_requests = _counter(
            r,
            "upstream_requests",
            "HTTP requests sent upstream, by chain and method.",
            "chain",
            "method",
        )
        self.upstream_errors = _counter(
            r,
            "upstream_errors",
            "Failed upstream attempts, by chain and error code.",
            "chain",
            "code",
        )
        self.upstream_latency = Histogram(
            "upstream_request_duration_seconds",
            "Upstream request latency, by chain and method (failed attempts included).",
            ("chain", "method"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.endpoint_state = Gauge(
            "endpoint_state",
            "Circuit state of each upstream endpoint: 0 closed, 1 half-open, 2 open.",
            ("chain", "endpoint"),
            registry=r,
            multiprocess_mode=SHARED_GAUGE_MODE,
        )
        self.log_range_splits = _counter(
            r,
            "log_range_splits",
            "eth_getLogs ranges halved by history scans, by chain and reason (too_large: "
            "refused by the node or over max_response_bytes; slow: timed out).",
            "chain",
            "reason",
        )
        self.endpoint_transitions = _counter(
            r,
            "endpoint_transitions",
            "Circuit state changes of upstream endpoints, by new state.",
            "chain",
            "endpoint",
            "state",
        )

    def _caches(self, r: CollectorRegistry) -> None:
        self.cache_lookups = _counter(
            r, "cache_lookups", "Balance cache lookups, by result (hit, miss, shared).", "result"
        )
        self.shared_reads = _counter(
            r,
            "shared_reads",
            "Cold reads coordinated with other processes through Redis leases, per lease, by "
            "outcome (led, waited, took_over, gave_up, uncoordinated).",
            "outcome",
        )
        self.response_cache = _counter(
            r, "response_cache", "Whole-answer cache lookups, by result (hit, miss).", "result"
        )
        self.cache_backend_state = Gauge(
            "cache_backend_state",
            "Circuit state of the shared cache (Redis): 0 closed, 1 half-open, 2 open.",
            registry=r,
            multiprocess_mode=SHARED_GAUGE_MODE,
        )

    def _requests(self, r: CollectorRegistry) -> None:
        self.requests = _counter(
            r,
            "graphql_requests",
            "GraphQL requests, by root field and outcome.",
            "root_field",
            "outcome",
        )
        self.key_requests = _counter(
            r,
            "key_requests",
            "Metered requests by API key name (`anonymous`, `invalid`) and outcome.",
            "key",
            "outcome",
        )
        self.key_credits = _counter(r, "key_credits", "Credits charged, by API key name.", "key")
        self.request_latency = Histogram(
            "graphql_request_duration_seconds",
            "Duration of GraphQL requests, counted once under each root field they ask for.",
            ("root_field",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def _live(self, r: CollectorRegistry) -> None:
        self.live_connections = Gauge(
            "live_connections",
            "Open live-balance connections, by transport (websocket, multipart).",
            ("transport",),
            registry=r,
            multiprocess_mode="livesum",
        )
        self.live_subscriptions = Gauge(
            "live_subscriptions",
            "Open balanceChanges subscriptions.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.live_watched = Gauge(
            "live_watched_lookups",
            "Distinct (account, token) rows each chain's follower reads per block.",
            ("chain",),
            registry=r,
            multiprocess_mode="livesum",
        )
        self.live_block_reads = _counter(
            r,
            "live_block_reads",
            "Batched reads of watched rows (one per block), by chain.",
            "chain",
        )
        self.live_lookups_read = _counter(
            r, "live_lookups_read", "Watched rows read by those batched reads, by chain.", "chain"
        )
        self.live_reorgs = _counter(
            r, "live_reorgs", "Reorgs the followers met, by chain.", "chain"
        )
        self.live_pushes = _counter(
            r, "live_pushes", "Changes sent to subscribers (not snapshots), by chain.", "chain"
        )
        self.live_push_lag = Histogram(
            "live_push_lag_seconds",
            "From a block's timestamp to sending the changes it made, by chain.",
            ("chain",),
            buckets=LAG_BUCKETS,
            registry=r,
        )

    def latest(self, gauge: str) -> dict[Labels, float] | None:
        """The value of each series of `gauge` (a `mostrecent` one) that any worker set last;
        `None` when this process is not one of several (its own values are the truth)."""
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return None
        files = glob.glob(os.path.join(directory, f"gauge_{SHARED_GAUGE_MODE}_*.db"))
        merged = multiprocess.MultiProcessCollector.merge(files, accumulate=False)  # type: ignore[no-untyped-call]
        return {
            frozenset(sample.labels.items()): sample.value
            for family in merged
            if family.name == gauge
            for sample in family.samples
        }

    def render(self) -> bytes:
        """The exposition text: this process, or every worker's when run multi-process."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            everyone = CollectorRegistry()
            multiprocess.MultiProcessCollector(everyone)  # type: ignore[no-untyped-call]
            return generate_latest(everyone)
        return generate_latest(self.registry)
