"""Prometheus-style counters for upstream traffic, rendered in the text exposition format.

Counters live per process (each uvicorn worker has its own); a Prometheus scrape of each
worker, or of a single-worker replica, sums them as usual.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_Labels = tuple[tuple[str, str], ...]


@dataclass
class CounterFamily:
    """A counter with labels, e.g. `upstream_requests_total{chain="base",method="eth_call"}`."""

    name: str
    help: str
    values: Counter[_Labels] = field(default_factory=Counter)

    def inc(self, amount: int = 1, **labels: str) -> None:
        self.values[tuple(sorted(labels.items()))] += amount

    def get(self, **labels: str) -> int:
        """The value for an exact label set (0 when never incremented)."""
        return self.values[tuple(sorted(labels.items()))]

    def total(self, **labels: str) -> int:
        """The sum over every series whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for key, v in self.values.items() if wanted <= set(key))

    def render(self) -> str:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for key, value in sorted(self.values.items()):
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
            lines.append(f"{self.name}{{{labels}}} {value}")
        return "\n".join(lines)


@dataclass
class Metrics:
    """Every counter the service exposes on `/metrics`."""

    upstream_requests: CounterFamily = field(
        default_factory=lambda: CounterFamily(
            "upstream_requests_total", "HTTP requests sent to chain nodes, by chain and method."
        )
    )
    upstream_errors: CounterFamily = field(
        default_factory=lambda: CounterFamily(
            "upstream_errors_total", "Failed upstream HTTP requests, by chain and error code."
        )
    )
    cache_lookups: CounterFamily = field(
        default_factory=lambda: CounterFamily(
            "cache_lookups_total", "Balance cache lookups, by result (hit, miss, stale, shared)."
        )
    )

    def render(self) -> str:
        families = (self.upstream_requests, self.upstream_errors, self.cache_lookups)
        return "\n".join(f.render() for f in families) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
