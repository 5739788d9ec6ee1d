"""The service's metrics: readable back, independent per app, one truth across workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.metrics import Metrics


def test_get_is_per_exact_label_set_and_total_sums_matching_series() -> None:
    family = Metrics().upstream_requests
    family.inc(chain="base", method="eth_call")
    family.inc(2, method="eth_call", chain="base")  # label order does not matter
    family.inc(chain="base", method="batch")
    family.inc(5, chain="eth", method="eth_call")
    assert family.get(chain="base", method="eth_call") == 3
    assert family.get(chain="base") == 0  # not an exact label set
    assert family.total(chain="base") == 4
    assert family.total(method="eth_call") == 8
    assert family.total() == 9
    assert family.total(chain="nowhere") == 0


def test_each_app_counts_on_its_own() -> None:
    first, second = Metrics(), Metrics()
    first.cache_lookups.inc(3, result="hit")
    assert first.cache_lookups.total() == 3
    assert second.cache_lookups.total() == 0


def test_the_exposition_has_every_family_and_escapes_labels() -> None:
    metrics = Metrics()
    metrics.upstream_errors.inc(chain='we"ird\nchain', code="UPSTREAM_TIMEOUT")
    metrics.upstream_latency.labels(chain="base", method="eth_call").observe(0.02)
    text = metrics.render().decode()
    types = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    assert {
        "upstream_requests_total",
        "upstream_errors_total",
        "upstream_request_duration_seconds",
        "cache_lookups_total",
        "endpoint_state",
        "endpoint_transitions_total",
        "cache_backend_state",
        "graphql_requests_total",
        "graphql_request_duration_seconds",
    } <= types
    assert 'upstream_errors_total{chain="we\\"ird\\nchain",code="UPSTREAM_TIMEOUT"} 1.0' in text
    bucket = 'upstream_request_duration_seconds_bucket{chain="base",le="0.025",method="eth_call"}'
    assert f"{bucket} 1.0" in text


WORKER = """
import sys
from core.metrics import Metrics
metrics = Metrics()
metrics.upstream_requests.inc(int(sys.argv[1]), chain="base", method="eth_call")
if len(sys.argv) > 2:
    sys.stdout.write(metrics.render().decode())
"""


def test_workers_sharing_a_metrics_directory_report_one_sum(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", WORKER, "3"], env=env, check=True, timeout=60)
    rendered = subprocess.run(
        [sys.executable, "-c", WORKER, "4", "render"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert 'upstream_requests_total{chain="base",method="eth_call"} 7.0' in rendered
