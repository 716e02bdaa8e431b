"""When two values are the same JSON value: ``==``, but a boolean never equals a number,
at any depth."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.compare import match_in_step, same_value

SAME = [
    (1, 1.0),
    ({"a": 1, "b": [2, {"c": 3.0}]}, {"b": [2.0, {"c": 3}], "a": 1.0}),
    ([True, {"x": False}], [True, {"x": False}]),
    (None, None),
    ("x", "x"),
    ({1: [2**70, True]}, {1: [2**70, True]}),  # beyond what orjson encodes: walked
]
DIFFERENT = [
    (1, True),
    (0, False),
    ({"a": 1}, {"a": True}),
    ({"a": [0, {"b": 1}]}, {"a": [0, {"b": True}]}),
    ([1.0, "x"], [True, "x"]),
    ({"a": 1}, {"a": 1, "b": 2}),
    ([1], [1, 2]),
    ("1", 1),
    ((1, [True]), [1, [True]]),  # Python's ==: a tuple is never a list
    ({1: [2**70, True]}, {1: [2**70, 1]}),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_values(a: Any, b: Any) -> None:
    assert same_value(a, b)
    assert same_value(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_values(a: Any, b: Any) -> None:
    assert not same_value(a, b)
    assert not same_value(b, a)


@pytest.mark.parametrize(("a", "b"), [*SAME, *DIFFERENT])
def test_events_are_in_step_exactly_when_their_data_are_the_same(a: Any, b: Any) -> None:
    expected = [RecordedEvent(0.0, "A", a, "s")]
    actual = [RecordedEvent(1.0, "A", b, "s")]
    assert (match_in_step(expected, actual) is not None) is same_value(a, b)


def test_a_bool_name_or_source_is_not_a_number_either() -> None:
    expected = [RecordedEvent(0.0, "A", {}, 1)]
    assert match_in_step(expected, [RecordedEvent(0.0, "A", {}, True)]) is None
    assert match_in_step(expected, [RecordedEvent(0.0, "A", {}, 1.0)]) is not None


def test_events_compared_whole_are_compared_as_one_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field compared whole (the default): one ``same_value`` of the two lists, which
    is ``same_value`` of every pair (a bool is still no number anywhere in them)."""
    import pytest_eventrecorder.compare as compare

    calls: list[object] = []

    def counting(a: Any, b: Any) -> bool:
        calls.append(a)
        return same_value(a, b)

    monkeypatch.setattr(compare, "same_value", counting)
    expected = [RecordedEvent(float(i), "A", {"n": i, "ok": True}, "s") for i in range(5)]
    actual = [RecordedEvent(float(i), "A", {"n": float(i), "ok": True}, "s") for i in range(5)]
    assert match_in_step(expected, actual) is not None
    assert len(calls) == 1
    actual[3] = RecordedEvent(3.0, "A", {"n": 3, "ok": 1}, "s")
    assert match_in_step(expected, actual) is None
