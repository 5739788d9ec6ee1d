"""The span a scanner asks a node for: halved on refusal, grown on success, toward a density
when one is given, never back above a refused span until it is forgotten."""

from __future__ import annotations

from chains.history.spans import FORGET_AFTER, AdaptiveSpan, results_within


def test_a_refusal_halves_or_takes_the_suggested_end_and_success_doubles_below_it() -> None:
    span = AdaptiveSpan(1_000, 100_000)
    span.refused(0, 999)
    assert span.span == 500
    span.accepted()
    assert span.span == 999  # doubled, but below the refused 1,000
    span.refused(0, 998, suggested_end=299)
    assert span.span == 300
    for _ in range(FORGET_AFTER - 1):
        span.accepted()
    assert span.span == 998  # still under the last refusal (999 blocks)
    span.accepted()  # the refusal forgotten: the span may grow past it again
    span.accepted()
    assert span.span == 3_992


def test_a_window_goes_up_from_the_bottom_or_down_from_the_top() -> None:
    span = AdaptiveSpan(10, 10)
    assert span.window(100, 1_000, downward=False) == (100, 109)
    assert span.window(100, 1_000, downward=True) == (991, 1_000)
    assert span.window(100, 104, downward=True) == (100, 104)


def test_with_a_target_the_span_moves_toward_that_density_at_most_doubled_or_halved() -> None:
    span = AdaptiveSpan(1_000, 1_000_000, target=500)
    span.accepted(results=2_000)  # four times too dense: halved, not quartered
    assert span.span == 500
    span.accepted(results=1_000)  # twice too dense
    assert span.span == 250
    span.accepted(results=250)  # half the target: doubled
    assert span.span == 500
    span.accepted(results=400)  # near the target: grows only to it
    assert span.span == 625
    span.accepted(results=0)  # nothing there: doubled
    assert span.span == 1_250
    without = AdaptiveSpan(1_000, 1_000_000)
    without.accepted(results=10_000)  # no target: density is not judged
    assert without.span == 2_000


def test_the_target_is_a_quarter_of_the_response_cap_in_results() -> None:
    assert results_within(16 * 1024 * 1024) == 4_096
    assert results_within(10) == 1


def test_a_clipped_window_is_judged_by_its_own_width() -> None:
    """A tail of 64 blocks holding 200 results is dense, whatever the span: judged by the
    span's 10,000 blocks it looked sparse, and the span doubled toward the node's cap."""
    span = AdaptiveSpan(10_000, 1_000_000, target=2_560)
    span.accepted(results=200, blocks=64)
    assert span.span == 5_000  # ~819 blocks wanted: halved toward it, at most
    span.accepted(results=10, blocks=5_000)
    assert span.span == 10_000
