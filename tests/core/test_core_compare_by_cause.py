"""Outputs compared input by input: the verdicts, and one pass when every output matches."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_eventrecorder import causality
from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.causality import match_by_cause
from pytest_eventrecorder.compare import Comparison
from pytest_eventrecorder.matchers import approx
from pytest_eventrecorder.matching import MatchRules


def tick(at: int) -> RecordedEvent:
    return RecordedEvent(float(at), "Tick", {"n": at}, "feed")


def order(at: int, cause: int, source: str = "bot", **data: Any) -> RecordedEvent:
    return RecordedEvent(
        float(at), "Order", {"n": cause, **data}, source, metadata={"caused_by": cause}
    )


def recording(inputs: int) -> list[RecordedEvent]:
    """Each input at an even index, the output it caused right after it."""
    return [e for i in range(0, 2 * inputs, 2) for e in (tick(i), order(i + 1, i))]


def outputs(events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [e for e in events if e.event_name != "Tick"]


def compared(actual: list[RecordedEvent], **options: Any) -> Comparison:
    recorded = recording(3)
    return match_by_cause(recorded, outputs(recorded), actual, **options)


def test_matching_outputs_are_compared_in_one_pass_not_once_per_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = causality.match_events
    monkeypatch.setattr(causality, "match_events", lambda *a, **k: calls.append(1) or real(*a, **k))
    recorded = recording(500)
    result = match_by_cause(recorded, outputs(recorded), outputs(recording(500)))
    assert result == Comparison([], {i: i for i in range(500)}, (), ())
    assert len(calls) <= 1


def test_matching_outputs_report_the_paths_that_name_nothing_sorted() -> None:
    result = compared(
        outputs(recording(3)),
        ignore_fields=("zz", "n", "aa"),
        match_on=("event_name", "event_data.n", "metadata.nope"),
    )
    assert result == Comparison([], {0: 0, 1: 1, 2: 2}, ("aa", "zz"), ("metadata.nope",))


def test_one_and_one_point_zero_match_but_true_and_one_do_not() -> None:
    equal = [order(1, 0, x=1), order(3, 2, x=2), order(5, 4, x=3)]
    recorded = [tick(0), order(1, 0, x=1.0), tick(2), order(3, 2, x=2), tick(4), order(5, 4, x=3)]
    assert match_by_cause(recorded, outputs(recorded), equal).differences == []
    flipped = [order(1, 0, x=True), order(3, 2, x=2), order(5, 4, x=3)]
    recorded[1] = order(1, 0, x=1)
    (diff,) = match_by_cause(recorded, outputs(recorded), flipped).differences
    assert (diff.kind, diff.field_diffs) == ("changed", ("event_data.x: 1 != True",))


def test_nan_matches_another_nan_as_their_json_does() -> None:
    recorded = [tick(0), order(1, 0, x=float("nan"))]
    actual = [order(1, 0, x=float("nan"))]  # another object: == says they differ
    result = match_by_cause(recorded, outputs(recorded), actual)
    assert result == Comparison([], {0: 0}, (), ())


def test_a_matcher_rejecting_a_matching_key_is_a_change() -> None:
    rules = MatchRules.build({"p": approx(abs=0.5)})
    recorded = [tick(0), order(1, 0, p=1.0), tick(2), order(3, 2, p=1.0)]
    actual = [order(1, 0, p=1.2), order(3, 2, p=9.0)]
    result = match_by_cause(recorded, outputs(recorded), actual, matchers=rules)
    (diff,) = result.differences
    assert (diff.kind, diff.expected_index, diff.actual_index) == ("changed", 1, 1)
    assert diff.field_diffs == ("event_data.p: 1.0 != 9.0 (approx abs=0.5)",)
    assert result.pairs == {0: 0, 1: 1}


def test_an_output_blamed_on_another_input_is_missing_under_one_and_new_under_the_other() -> None:
    actual = [order(1, 0), order(3, 0), order(5, 4)]
    actual[1] = RecordedEvent(3.0, "Order", {"n": 2}, "bot", metadata={"caused_by": 0})
    kinds = [(d.kind, d.field_diffs[-1]) for d in compared(actual).differences]
    assert kinds == [
        ("unexpected", "caused by input #0 'Tick', which never caused it when recorded"),
        (
            "missing",
            "input #2 'Tick' used to cause 'Order' (recorded #3); it now causes nothing",
        ),
    ]


def test_outputs_of_one_input_in_another_order_are_paired_across() -> None:
    recorded = [tick(0), order(1, 0, "a"), order(2, 0, "b")]
    actual = [order(1, 0, "b"), order(2, 0, "a")]
    result = match_by_cause(recorded, outputs(recorded), actual)
    assert result.differences == []
    assert result.pairs == {0: 1, 1: 0}
