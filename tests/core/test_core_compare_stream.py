"""The streaming diff: bounded memory for any size, the same report as the whole-file diff
for inputs that fit one window, and exact indices across windows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.compare import DiffStream, compare_events


def ev(i: int, source: str = "bot", **data: Any) -> RecordedEvent:
    return RecordedEvent(float(i), f"E{i % 7}", {"n": i, **data}, source)


def events(count: int) -> list[RecordedEvent]:
    return [ev(i, "feed" if i % 3 else "bot") for i in range(count)]


def kinds(diffs: list[Any]) -> list[tuple[str, str, int | None, int | None]]:
    return [(d.kind, d.event_name, d.expected_index, d.actual_index) for d in diffs]


SMALL_CASES = [
    (events(10), events(10)),
    (events(10), [*events(10)[:5], ev(99), *events(10)[5:]]),
    (events(10), [e for i, e in enumerate(events(10)) if i != 4]),
    (events(10), [events(10)[i] for i in (1, 0, 2, 3, 5, 4, 6, 7, 8, 9)]),
    (
        events(12),
        [ev(i, "feed" if i % 3 else "bot", x=1) if i == 6 else e for i, e in enumerate(events(12))],
    ),
    ([], events(3)),
    (events(3), []),
]


@pytest.mark.parametrize(("expected", "actual"), SMALL_CASES)
def test_inputs_within_one_window_get_exactly_the_whole_file_report(
    expected: list[RecordedEvent], actual: list[RecordedEvent]
) -> None:
    streamed = list(DiffStream(iter(expected), iter(actual)))
    assert streamed == compare_events(expected, actual)


def test_sparse_edits_across_windows_are_found_with_their_global_indices() -> None:
    rng = random.Random(7)
    expected = events(5000)
    actual = list(expected)
    for at in sorted(rng.sample(range(100, 4900), 40), reverse=True):
        edit = rng.choice(["change", "insert", "delete"])
        if edit == "change":
            actual[at] = ev(at, actual[at].source or "", changed=True)
        elif edit == "insert":
            actual.insert(at, ev(10_000 + at))
        else:
            del actual[at]
    whole = compare_events(expected, actual)
    assert len(whole) >= 40
    assert list(DiffStream(iter(expected), iter(actual), window=64)) == whole


def test_an_event_moved_farther_than_the_window_is_missing_and_unexpected() -> None:
    expected = events(300)
    actual = expected[1:200] + expected[:1] + expected[200:]
    assert kinds(compare_events(expected, actual)) == [("moved", "E0", 0, 199)]
    far = kinds(list(DiffStream(iter(expected), iter(actual), window=32)))
    assert far == [("missing", "E0", 0, None), ("unexpected", "E0", None, 199)]
    near = kinds(list(DiffStream(iter(expected), iter(actual), window=512)))
    assert near == [("moved", "E0", 0, 199)]


def test_a_long_insertion_widens_the_window_and_is_reported_whole() -> None:
    expected = events(1000)
    extra = [ev(1000 + i) for i in range(150)]
    actual = expected[:40] + extra + expected[40:]
    diffs = list(DiffStream(iter(expected), iter(actual), window=512))
    assert [d.kind for d in diffs] == ["unexpected"] * 150
    assert [d.actual_index for d in diffs] == list(range(40, 190))


def counted(items: list[RecordedEvent], seen: list[int]) -> Iterator[RecordedEvent]:
    for i, item in enumerate(items):
        seen[0] = i + 1
        yield item


def test_reading_stays_within_a_window_of_the_differences_reported() -> None:
    expected = events(10_000)
    actual = list(expected)
    actual[5000] = ev(5000, actual[5000].source or "", changed=True)
    seen = [0]
    stream = iter(DiffStream(counted(expected, seen), iter(actual), window=100))
    first = next(stream)
    assert (first.kind, first.expected_index) == ("changed", 5000)
    assert seen[0] <= 5000 + 2 * 100
    assert list(stream) == []


def test_totals_and_unmatched_paths_are_known_once_read() -> None:
    expected = events(500)
    actual = [
        RecordedEvent(e.timestamp_offset_ms + 1, e.event_name, e.event_data, e.source)
        for e in expected
    ]
    stream = DiffStream(
        iter(expected), iter(actual), ignore_fields=["event_data.n", "nope"], window=50
    )
    assert list(stream) == []
    assert stream.counts == (500, 500)
    assert stream.last_offsets == (499.0, 500.0)
    assert stream.unmatched_paths == ("nope",)


def test_bad_ignore_fields_fail_before_anything_is_read() -> None:
    with pytest.raises(ValueError, match="ignore_fields"):
        DiffStream(iter(()), iter(()), ignore_fields=["a..b"])
