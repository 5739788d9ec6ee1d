"""The sliding-window decision every store makes (`metering.windows`)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from metering.windows import State, evaluate, roll

MINUTE = 60_000
T0 = 1_700_000_040_000  # the start of a one-minute window (divisible by 60,000)


def run(times: list[int], limit: int = 30, period: int = MINUTE) -> list[bool]:
    state: State | None = None
    admitted = []
    for now in times:
        state, quota = evaluate(state, 1, limit, period, now)
        admitted.append(quota.admitted)
    return admitted


def test_thirty_a_minute_admits_thirty_and_refuses_the_thirty_first() -> None:
    assert run([T0 + i for i in range(31)]) == [True] * 30 + [False]


def test_a_burst_at_a_window_edge_does_not_buy_a_second_burst() -> None:
    """Fixed windows would admit 30 at 0:59 and 30 more at 1:00; the sliding estimate does not."""
    end = T0 + MINUTE - 1_000
    burst = run([end + i for i in range(30)] + [T0 + MINUTE + 1_000 + i for i in range(30)])
    assert burst[:30] == [True] * 30
    assert sum(burst[30:]) <= 2  # ~1/60 of the first burst has decayed after 2 s


def test_evenly_spread_calls_are_held_to_the_limit_in_every_minute() -> None:
    every_second = run([T0 + 1_000 * i for i in range(180)])
    for start in range(0, 120):
        assert sum(every_second[start : start + 60]) <= 31


def test_the_retry_time_is_exact_to_the_millisecond() -> None:
    state: State | None = None
    for i in range(30):
        state, _ = evaluate(state, 1, 30, MINUTE, T0 + MINUTE - 100 + i)
    now = T0 + MINUTE + 500  # next window: the 30 decay out of the estimate over a minute
    state, refused = evaluate(state, 1, 30, MINUTE, now)
    assert not refused.admitted and refused.retry is not None and refused.remaining == -1
    assert refused.retry == T0 + MINUTE + 2_000  # 30 x 58/60 = 29 left, and 29 + 1 fits
    assert not evaluate(state, 1, 30, MINUTE, refused.retry - 1)[1].admitted
    assert evaluate(state, 1, 30, MINUTE, refused.retry)[1].admitted


def test_remaining_and_reset_describe_the_quota_left() -> None:
    state, first = evaluate(None, 1, 10, MINUTE, T0 + 10)
    assert (first.limit, first.remaining, first.reset) == (10, 9, T0 + 2 * MINUTE)
    state, second = evaluate(state, 4, 10, MINUTE, T0 + 20)
    assert second.remaining == 5
    _, later = evaluate(state, 1, 10, MINUTE, T0 + MINUTE + MINUTE // 2)
    assert later.remaining == 10 - 1 - 3  # half of the previous 5 still counts (rounded up)


def test_a_request_larger_than_the_limit_can_never_fit() -> None:
    _, quota = evaluate(None, 11, 10, MINUTE, T0)
    assert not quota.admitted and quota.retry is None


def test_counters_a_window_old_become_previous_older_ones_are_forgotten() -> None:
    assert roll(State(5, 7, 3), 6) == State(6, 0, 7)
    assert roll(State(5, 7, 3), 7) == State(7, 0, 0)
    assert roll(State(5, 7, 3), 4) == State(5, 7, 3)  # a clock that stepped back keeps counting


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    limit=st.integers(1, 50),
    period=st.sampled_from([1_000, MINUTE, 3_600_000]),
    steps=st.lists(st.tuples(st.integers(0, 5_000), st.integers(1, 5)), max_size=80),
)
def test_admission_matches_remaining_and_retry_is_the_first_moment_that_fits(
    limit: int, period: int, steps: list[tuple[int, int]]
) -> None:
    state: State | None = None
    now = T0
    for gap, units in steps:
        now += gap * period // 1_000
        remaining_before = evaluate(state, 0, limit, period, now)[1].remaining
        state_after, quota = evaluate(state, units, limit, period, now)
        assert quota.admitted == (units <= remaining_before)
        if quota.admitted:
            assert quota.remaining == remaining_before - units
            state = state_after
        elif quota.retry is not None:
            assert quota.retry > now
            assert evaluate(state, units, limit, period, quota.retry)[1].admitted
            assert not evaluate(state, units, limit, period, quota.retry - 1)[1].admitted
