"""An event that is only out of order is reported once, as "moved", with a hint at ordered=False."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plugin_e2e import Runner, cassette_file, write_test

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.compare import Difference, compare_events, format_report, match_events

HINT = (
    "Order matters within each source; "
    "@pytest.mark.event_cassette(..., ordered=False) compares without order."
)


def ev(name: str, data: Any = None, source: str | None = "S") -> RecordedEvent:
    return RecordedEvent(0.0, name, data if data is not None else {}, source)


def kinds(diffs: list[Difference]) -> list[tuple[str, str, int | None, int | None]]:
    return [(d.kind, d.event_name, d.expected_index, d.actual_index) for d in diffs]


def test_a_swapped_pair_is_one_moved_difference_with_a_hint() -> None:
    diffs = compare_events([ev("A"), ev("B")], [ev("B"), ev("A")])
    assert kinds(diffs) == [("moved", "B", 1, 0)]
    assert diffs[0].field_diffs == ()
    report = format_report(diffs, cassette_path="c.json", rerecord_hint="pytest t.py --rm=all")
    assert report.splitlines() == [
        "1 event difference from cassette c.json (1 moved)",
        "(field lines read: recorded != actual)",
        "",
        "  [1] moved 'B' from source 'S' (recorded #1, now #0)",
        "",
        HINT,
        "",
        "If the new behaviour is intended, re-record with: pytest t.py --rm=all",
    ]


def test_a_moved_event_among_changed_missing_and_unexpected_ones() -> None:
    recorded = [ev("A", {"v": 1}), ev("B"), ev("C"), ev("D", {"v": 1}), ev("E")]
    now = [ev("A", {"v": 2}), ev("C"), ev("B"), ev("D", {"v": 2}), ev("F")]
    diffs = compare_events(recorded, now)
    assert kinds(diffs) == [
        ("changed", "A", 0, 0),
        ("moved", "C", 2, 1),
        ("changed", "D", 3, 3),
        ("missing", "E", 4, None),
        ("unexpected", "F", None, 4),
    ]
    report = format_report(diffs)
    assert report.startswith("5 event differences (2 changed, 1 moved, 1 missing, 1 unexpected)\n")
    assert "  [2] moved 'C' from source 'S' (recorded #2, now #1)\n  [3] changed 'D'" in report
    assert report.count(HINT) == 1
    assert report.endswith(HINT)


def test_repeats_beyond_the_recorded_count_stay_unexpected() -> None:
    diffs = compare_events([ev("A"), ev("B")], [ev("B"), ev("B"), ev("A")])
    assert kinds(diffs) == [("unexpected", "B", None, 1), ("moved", "B", 1, 0)]


def test_each_recorded_event_moves_at_most_once() -> None:
    diffs = compare_events([ev("B"), ev("B"), ev("A")], [ev("A"), ev("B")])
    assert kinds(diffs) == [("missing", "B", 1, None), ("moved", "A", 2, 0)]


def test_equal_means_equal_under_the_comparison_rules() -> None:
    ignored = compare_events(
        [ev("A", {"t": 1}), ev("B", {"v": 1})],
        [ev("B", {"v": 1.0}), ev("A", {"t": 2})],
        ignore_fields=["t"],
    )
    assert kinds(ignored) == [("moved", "B", 1, 0)]
    by_name = compare_events(
        [ev("A"), ev("B", {"v": 1})], [ev("B", {"v": 2}), ev("A")], match_on=("event_name",)
    )
    assert kinds(by_name) == [("moved", "B", 1, 0)]
    bool_is_not_one = compare_events([ev("A"), ev("B", {"v": 1})], [ev("B", {"v": True}), ev("A")])
    assert [d.kind for d in bool_is_not_one] == ["unexpected", "missing"]


def test_other_sources_do_not_move() -> None:
    diffs = compare_events([ev("A", source="s1")], [ev("A", source="s2")])
    assert [d.kind for d in diffs] == ["missing", "unexpected"]
    assert HINT not in format_report(diffs)


def test_unordered_comparison_never_reports_moved() -> None:
    assert compare_events([ev("A"), ev("B")], [ev("B"), ev("A")], ordered=False) == []
    diffs = compare_events(
        [ev("A"), ev("B"), ev("C", {"v": 1})],
        [ev("C", {"v": 2}), ev("B"), ev("B"), ev("A")],
        ordered=False,
    )
    assert kinds(diffs) == [("unexpected", "B", None, 2), ("changed", "C", 2, 0)]
    assert HINT not in format_report(diffs)


def test_moved_events_are_not_pairs_and_serialize_both_sides() -> None:
    result = match_events([ev("A"), ev("B", {"v": 1})], [ev("B", {"v": 1}), ev("A")])
    assert result.pairs == {1: 0}
    [data] = json.loads(json.dumps([d.to_dict() for d in result.differences]))
    assert (data["kind"], data["expected_index"], data["actual_index"]) == ("moved", 1, 0)
    assert data["expected"]["event_data"] == data["actual"]["event_data"] == {"v": 1}
    assert data["field_diffs"] == []


def test_moved_has_its_own_color() -> None:
    report = format_report(compare_events([ev("A"), ev("B")], [ev("B"), ev("A")]), color=True)
    assert "\x1b[36mmoved 'B'" in report


SWAPPING_TEST = """
    import os

    import pytest


    @pytest.mark.event_cassette(inputs=["Go"]{options})
    def test_swap(service_bus, event_cassette):
        def emit(_go):
            for name in os.environ.get("EMIT", "AB"):
                service_bus.publish(name, {{"n": name}}, "S")

        service_bus.subscribe("Go", emit)
        event_cassette.play(live=lambda: service_bus.publish("Go", {{}}, "feed"))
"""


@pytest.mark.parametrize(
    ("options", "mode", "outcome"),
    [
        ("", "once", "failed"),
        ("", "new_episodes", "failed"),
        (", ordered=False", "once", "passed"),
    ],
)
def test_a_swapped_run_end_to_end(
    project: pytest.Pytester,
    run_inprocess: Runner,
    monkeypatch: pytest.MonkeyPatch,
    options: str,
    mode: str,
    outcome: str,
) -> None:
    write_test(project, SWAPPING_TEST.format(options=options))
    run_inprocess().assert_outcomes(passed=1)
    path = cassette_file(project, "test_swap")
    before = path.read_text()
    monkeypatch.setenv("EMIT", "BA")

    result = run_inprocess(f"--record-mode={mode}")

    result.assert_outcomes(**{outcome: 1})
    assert path.read_text() == before
    if outcome == "failed":
        lines = result.stdout.lines
        assert "  [1] moved 'B' from source 'S' (recorded #1, now #0)" in lines
        assert HINT in lines
        result.stdout.fnmatch_lines(["*1 event difference*(1 moved)"])
        result.stdout.no_fnmatch_line("*was never recorded*")
