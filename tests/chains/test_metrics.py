"""Counters and their Prometheus text exposition (format 0.0.4)."""

from __future__ import annotations

from chains.metrics import CounterFamily, Metrics


def test_get_is_per_exact_label_set_and_total_sums_matching_series() -> None:
    family = CounterFamily("upstream_requests_total", "help")
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


def test_render_has_help_type_and_one_sorted_line_per_series() -> None:
    family = CounterFamily("cache_lookups_total", "Balance cache lookups.")
    family.inc(3, result="miss")
    family.inc(result="hit")
    assert family.render().splitlines() == [
        "# HELP cache_lookups_total Balance cache lookups.",
        "# TYPE cache_lookups_total counter",
        'cache_lookups_total{result="hit"} 1',
        'cache_lookups_total{result="miss"} 3',
    ]


def test_label_values_are_escaped() -> None:
    family = CounterFamily("x_total", "x")
    family.inc(chain='we"ird\\chain\nname')
    assert family.render().splitlines()[-1] == 'x_total{chain="we\\"ird\\\\chain\\nname"} 1'


def test_labels_are_rendered_sorted_by_name() -> None:
    family = CounterFamily("x_total", "x")
    family.inc(method="m", chain="c")
    assert family.render().splitlines()[-1] == 'x_total{chain="c",method="m"} 1'


def test_the_service_exposes_three_families_ending_with_a_newline() -> None:
    metrics = Metrics()
    metrics.upstream_errors.inc(chain="base", code="UPSTREAM_TIMEOUT")
    text = metrics.render()
    assert text.endswith("\n")
    types = [line for line in text.splitlines() if line.startswith("# TYPE")]
    assert types == [
        "# TYPE upstream_requests_total counter",
        "# TYPE upstream_errors_total counter",
        "# TYPE cache_lookups_total counter",
    ]
    assert 'upstream_errors_total{chain="base",code="UPSTREAM_TIMEOUT"} 1\n' in text
