"""Delta debugging over a recording's inputs (pytest_eventrecorder.shrink)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder.shrink import Candidate, NotReproducible, ddmin


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 400).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.integers(0, n - 1), min_size=1, max_size=4))
    )
)
def test_ddmin_finds_exactly_the_events_a_bug_needs(case: tuple[int, set[int]]) -> None:
    size, needed = case
    result = ddmin(size, lambda c: needed <= set(c))
    assert result.kept == tuple(sorted(needed))
    assert result.minimal


def test_ddmin_keeps_recorded_order_and_runs_each_candidate_once() -> None:
    seen: list[Candidate] = []

    def fails(candidate: Candidate) -> bool:
        seen.append(candidate)
        assert list(candidate) == sorted(candidate)
        return {3, 1000, 1999} <= set(candidate)

    result = ddmin(2000, fails)
    assert result.kept == (3, 1000, 1999)
    assert len(seen) == len(set(seen)) == result.runs
    assert result.runs < 300


def test_a_failure_that_needs_no_input_shrinks_to_nothing() -> None:
    assert ddmin(50, lambda c: True).kept == ()


def test_the_full_recording_must_fail_first() -> None:
    with pytest.raises(NotReproducible):
        ddmin(100, lambda c: False)


def test_the_budget_stops_early_with_the_smallest_failure_so_far() -> None:
    progress: list[tuple[int, int]] = []
    result = ddmin(
        1000, lambda c: {1, 100, 300} <= set(c), max_runs=5, progress=lambda *a: progress.append(a)
    )
    assert not result.minimal
    assert result.runs == 5
    assert {1, 100, 300} <= set(result.kept)
    assert len(result.kept) < 1000
    assert [runs for runs, _ in progress] == [1, 2, 3, 4, 5]
    assert progress[-1][1] == len(result.kept)
