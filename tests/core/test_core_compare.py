"""Unit tests for the diff engine shared by the plugin, the CLI and the dashboard."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder.cassette import Cassette, RecordedEvent
from pytest_eventrecorder.compare import (
    Difference,
    _pairs_by_name,
    _View,
    compare_events,
    diff_cassettes,
    field_diff,
    format_report,
    match_events,
)


def ev(name: str, data: Any = None, source: str | None = "bot", at: float = 0.0) -> RecordedEvent:
    return RecordedEvent(at, name, data if data is not None else {}, source)


def kinds(diffs: list[Difference]) -> list[tuple[str, str, int | None, int | None]]:
    return [(d.kind, d.event_name, d.expected_index, d.actual_index) for d in diffs]


def test_identical_sequences_have_no_differences() -> None:
    events = [ev("A", {"x": 1}), ev("B", {"y": [1, 2]})]
    assert compare_events(events, list(events)) == []


def test_offsets_are_not_compared() -> None:
    assert compare_events([ev("A", at=1.0)], [ev("A", at=99.0)]) == []


def test_changed_event_lists_every_field_line() -> None:
    expected = [ev("OrderPlaced", {"price": 100.0, "qty": 1, "side": "buy"})]
    actual = [ev("OrderPlaced", {"price": 101.5, "qty": 1, "note": "x"})]
    [diff] = compare_events(expected, actual)
    assert (diff.kind, diff.expected_index, diff.actual_index) == ("changed", 0, 0)
    assert diff.field_diffs == (
        "event_data.price: 100.0 != 101.5",
        "event_data.side: 'buy' != <missing>",
        "event_data.note: <missing> != 'x'",
    )
    assert diff.expected == expected[0]
    assert diff.actual == actual[0]


def test_unexpected_and_missing_events() -> None:
    expected = [ev("A"), ev("B"), ev("C")]
    actual = [ev("A"), ev("C"), ev("D")]
    assert kinds(compare_events(expected, actual)) == [
        ("missing", "B", 1, None),
        ("unexpected", "D", None, 2),
    ]


def test_several_differences_are_all_reported() -> None:
    expected = [ev("A", {"v": 1}), ev("B"), ev("C", {"v": 1})]
    actual = [ev("A", {"v": 2}), ev("C", {"v": 3}), ev("E")]
    assert [d.kind for d in compare_events(expected, actual)] == [
        "changed",
        "missing",
        "changed",
        "unexpected",
    ]


def test_repeats_of_identical_events_are_matched_one_by_one() -> None:
    tick = ev("Tick", {"p": 1})
    assert kinds(compare_events([tick, tick], [tick, tick, tick])) == [
        ("unexpected", "Tick", None, 2)
    ]
    assert kinds(compare_events([tick, tick, tick], [tick])) == [
        ("missing", "Tick", 1, None),
        ("missing", "Tick", 2, None),
    ]


def test_order_is_checked_per_source_by_default() -> None:
    expected = [ev("A", source="s1"), ev("X", source="s2"), ev("B", source="s1")]
    interleaved = [ev("X", source="s2"), ev("A", source="s1"), ev("B", source="s1")]
    assert compare_events(expected, interleaved) == []
    swapped = [ev("B", source="s1"), ev("X", source="s2"), ev("A", source="s1")]
    assert kinds(compare_events(expected, swapped)) == [("moved", "B", 2, 0)]


def test_unordered_ignores_order_but_still_counts() -> None:
    expected = [ev("A", {"v": 1}), ev("B"), ev("A", {"v": 1})]
    shuffled = [ev("B"), ev("A", {"v": 1}), ev("A", {"v": 1})]
    assert compare_events(expected, shuffled, ordered=False) == []
    changed = [ev("B"), ev("A", {"v": 2}), ev("A", {"v": 1})]
    [diff] = compare_events(expected, changed, ordered=False)
    assert diff.kind == "changed"
    assert diff.field_diffs == ("event_data.v: 1 != 2",)
    extra = [*shuffled, ev("C")]
    assert kinds(compare_events(expected, extra, ordered=False)) == [("unexpected", "C", None, 3)]


@pytest.mark.parametrize("ordered", [True, False])
def test_a_source_change_is_a_missing_and_an_unexpected_event(ordered: bool) -> None:
    diffs = compare_events([ev("A", source="a")], [ev("A", source="b")], ordered=ordered)
    assert [(d.kind, d.source) for d in diffs] == [("missing", "a"), ("unexpected", "b")]


def test_match_on_limits_the_compared_fields() -> None:
    assert (
        compare_events(
            [ev("A", {"v": 1}, source="a")],
            [ev("A", {"v": 2}, source="b")],
            match_on=("event_name",),
        )
        == []
    )
    assert (
        compare_events(
            [ev("A", source="a")],
            [ev("A", source="b")],
            match_on=("event_name", "event_data"),
            ordered=False,
        )
        == []
    )
    typed = RecordedEvent(0.0, "A", {}, "bot", event_type="m:New")
    [diff] = compare_events([ev("A")], [typed], match_on=("event_name", "event_type"))
    assert diff.field_diffs == ("event_type: None != 'm:New'",)


@pytest.mark.parametrize("bad", [(), "event_name", ("event_name", "colour")])
def test_bad_match_on_is_a_clear_error(bad: Any) -> None:
    with pytest.raises(ValueError, match="match_on"):
        compare_events([], [], match_on=bad)


def test_ignore_fields_with_dotted_paths_and_wildcards() -> None:
    expected = [ev("O", {"timestamp": 1, "order": {"id": "a", "qty": 1}, "meta": {"h": 1, "k": 2}})]
    actual = [ev("O", {"timestamp": 2, "order": {"id": "b", "qty": 1}, "meta": {"h": 9}})]
    assert compare_events(expected, actual, ignore_fields=["timestamp", "order.id", "meta.*"]) == []
    [diff] = compare_events(expected, actual, ignore_fields=["timestamp", "meta.*"])
    assert diff.field_diffs == ("event_data.order.id: 'a' != 'b'",)


def test_ignore_fields_reach_into_lists() -> None:
    expected = [ev("O", {"items": [{"id": 1, "p": 5}, {"id": 2, "p": 6}]})]
    actual = [ev("O", {"items": [{"id": 7, "p": 5}, {"id": 8, "p": 6}]})]
    assert compare_events(expected, actual, ignore_fields=["items.*.id"]) == []


@pytest.mark.parametrize("bad", ["timestamp", ["a..b"], [""], [3]])
def test_bad_ignore_fields_are_a_clear_error(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="ignore_fields"):
        compare_events([], [], ignore_fields=bad)


def test_numbers_compare_by_value_but_booleans_are_not_numbers() -> None:
    assert compare_events([ev("A", {"v": 1})], [ev("A", {"v": 1.0})]) == []
    recorded, now = ev("A", {"v": [1, {"w": 0}]}), ev("A", {"v": [True, {"w": False}]})
    changed = compare_events([recorded], [now])
    assert [d.field_diffs for d in changed] == [
        ("event_data.v.0: 1 != True", "event_data.v.1.w: 0 != False")
    ]
    assert (
        compare_events([ev("A", {"v": 1}), ev("B")], [ev("B"), ev("A", {"v": 1.0})], ordered=False)
        == []
    )


def test_data_equal_in_value_but_not_in_form_still_aligns() -> None:
    expected = [ev("A", {"v": 1, "w": 2}), ev("B", {"v": 1})]
    actual = [ev("A", {"w": 2, "v": 1.0}), ev("C"), ev("B", {"v": 1.0})]
    result = match_events(expected, actual)
    assert kinds(result.differences) == [("unexpected", "C", None, 1)]
    assert result.pairs == {0: 0, 2: 1}


def test_field_diff_recurses_into_lists() -> None:
    assert field_diff([1, 2], [1, 3, 4], "d") == ["d.1: 2 != 3", "d.2: <missing> != 4"]
    assert field_diff({"a": [1]}, {"a": "x"}, "d") == ["d.a: [1] != 'x'"]


def test_to_dict_is_json_safe() -> None:
    diffs = compare_events([ev("A", {"v": 1}), ev("B")], [ev("A", {"v": 2}), ev("C")])
    data = json.loads(json.dumps([d.to_dict() for d in diffs]))
    assert data[0]["kind"] == "changed"
    assert data[0]["field_diffs"] == ["event_data.v: 1 != 2"]
    assert data[0]["expected"]["event_data"] == {"v": 1}
    assert {d["kind"] for d in data[1:]} == {"missing", "unexpected"}
    missing = next(d for d in data if d["kind"] == "missing")
    assert missing["actual"] is None


def test_diff_cassettes() -> None:
    a = Cassette.build("a", [ev("A", {"t": 1, "v": 1})])
    b = Cassette.build("b", [ev("A", {"t": 2, "v": 1})])
    assert diff_cassettes(a, b, ignore_fields=["t"]) == []
    assert [d.kind for d in diff_cassettes(a, b)] == ["changed"]


def test_report_names_every_difference_path_and_rerecord_hint() -> None:
    expected = [ev("OrderPlaced", {"price": 100.0}), ev("OrderFilled")]
    actual = [ev("OrderPlaced", {"price": 101.5}), ev("OrderCancelled", {"why": "x"})]
    report = format_report(
        compare_events(expected, actual),
        cassette_path="cassettes/t.json",
        rerecord_hint="pytest t.py --record-mode=all",
    )
    assert "3 event differences from cassette cassettes/t.json" in report
    assert "(1 changed, 1 missing, 1 unexpected)" in report
    assert "changed 'OrderPlaced' from source 'bot' (recorded #0, now #0)" in report
    assert "event_data.price: 100.0 != 101.5" in report
    assert "missing 'OrderFilled' from source 'bot': recorded #1 was not published" in report
    assert "unexpected 'OrderCancelled' from source 'bot': #1 was never recorded" in report
    assert "re-record with: pytest t.py --record-mode=all" in report
    assert "\x1b[" not in report


def test_report_color_and_empty() -> None:
    diffs = compare_events([ev("A")], [])
    assert "\x1b[31m" in format_report(diffs, color=True)
    assert format_report([]).startswith("no differences")


def test_long_values_are_shortened() -> None:
    [diff] = compare_events([ev("A", {"v": "x" * 500})], [ev("A", {"v": "y"})])
    assert len(diff.field_diffs[0]) < 200
    assert diff.field_diffs[0].endswith("!= 'y'")


def test_match_events_exposes_the_pairing() -> None:
    expected = [ev("A"), ev("B", {"v": 1}), ev("C")]
    actual = [ev("A"), ev("X"), ev("B", {"v": 2}), ev("C")]
    result = match_events(expected, actual)
    assert result.pairs == {0: 0, 2: 1, 3: 2}
    assert [d.kind for d in result.differences] == ["unexpected", "changed"]


def test_an_inserted_event_pairs_the_rest_with_their_most_similar_partners() -> None:
    def order(price: float, n: int) -> RecordedEvent:
        return ev("OrderPlaced", {"price": price, "id": f"o-{n}", "qty": 1})

    expected = [order(99.0, 0), order(98.5, 1)]
    actual = [order(101.0, 0), order(99.0, 1), order(98.5, 2)]
    diffs = compare_events(expected, actual)
    assert kinds(diffs) == [
        ("unexpected", "OrderPlaced", None, 0),
        ("changed", "OrderPlaced", 0, 1),
        ("changed", "OrderPlaced", 1, 2),
    ]
    assert diffs[1].field_diffs == ("event_data.id: 'o-0' != 'o-1'",)
    assert kinds(compare_events(expected, actual, ignore_fields=["id"])) == kinds(diffs)[:1]


def test_huge_stretches_fall_back_to_in_order_pairing() -> None:
    expected = [ev("A", {"v": i}) for i in range(300)]
    actual = [ev("A", {"v": -i}) for i in range(1, 301)]
    diffs = compare_events(expected, actual)
    assert [d.kind for d in diffs] == ["changed"] * 300
    assert diffs[0].field_diffs == ("event_data.v: 0 != -1",)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.sampled_from("ABC"), max_size=30),
    st.lists(st.sampled_from("ABC"), max_size=30),
)
def test_pairing_by_name_keeps_order_and_pairs_only_same_names(a: list[str], b: list[str]) -> None:
    views = [
        [_View(i, RecordedEvent(float(i), n, None), {}, ("k", i)) for i, n in enumerate(names)]
        for names in (a, b)
    ]
    pairs = _pairs_by_name(*views)
    assert all(a[i] == b[j] for i, j in pairs)
    assert pairs == sorted(pairs)
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
    assert all(j1 < j2 for (_, j1), (_, j2) in itertools.pairwise(pairs))
    if a == b:
        assert pairs == [(k, k) for k in range(len(a))]


def test_a_reported_path_is_accepted_back_as_an_ignored_field() -> None:
    expected = [ev("Paid", {"payment_id": 1, "unit.price": 2, "items": [{"n": 1}]})]
    actual = [ev("Paid", {"payment_id": 9, "unit.price": 3, "items": [{"n": 2}]})]
    [diff] = compare_events(expected, actual)
    printed = [line.split(":")[0] for line in diff.field_diffs]
    assert printed == ["event_data.payment_id", 'event_data."unit.price"', "event_data.items.0.n"]
    assert compare_events(expected, actual, ignore_fields=printed) == []


def test_ignored_paths_that_match_no_field_are_named() -> None:
    expected = [ev("Paid", {"payment_id": 1, "meta": {"host": "a"}})]
    actual = [ev("Paid", {"payment_id": 2, "extra": 1})]
    wanted = ["event_data.payment_id", "meta.*", "extra", "event_data.paymentid", "meta.nope"]
    comparison = match_events(expected, actual, ignore_fields=wanted)
    assert comparison.unmatched_paths == ("event_data.paymentid", "meta.nope")
    assert match_events(expected, expected).unmatched_paths == ()


def test_match_on_takes_paths_inside_event_data_and_metadata() -> None:
    data = (
        {"id": 1, "at": 5, "items": [{"n": 1, "t": 0}]},
        {"id": 1, "at": 6, "items": [{"n": 2}]},
    )
    expected = [RecordedEvent(0.0, "Paid", data[0], "s", metadata={"k": 1})]
    actual = [RecordedEvent(0.0, "Paid", data[1], "s", metadata={"k": 2})]
    on_id = ("event_name", "event_data.id")
    assert compare_events(expected, actual, match_on=on_id) == []
    [diff] = compare_events(expected, actual, match_on=(*on_id, "event_data.items.*.n"))
    assert diff.field_diffs == ("event_data.items.0.n: 1 != 2",)
    [diff] = compare_events(expected, actual, match_on=("event_name", "metadata.k"))
    assert diff.field_diffs == ("metadata.k: 1 != 2",)
    # a whole field named too wins over its paths; ignore_fields still apply
    [diff] = compare_events(
        expected, actual, match_on=("event_data", "event_data.id"), ignore_fields=["items"]
    )
    assert diff.field_diffs == ("event_data.at: 5 != 6",)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (("event_name", "source.x"), "'source.x'"),
        (("event_data.a..b",), "empty segment"),
        (("payment_id",), "unknown field(s) ['payment_id']"),
    ],
)
def test_bad_match_on_paths_are_named(bad: tuple[str, ...], fragment: str) -> None:
    with pytest.raises(ValueError, match="match_on") as info:
        compare_events([], [], match_on=bad)
    assert fragment in str(info.value)


def test_match_on_paths_that_match_no_field_are_named() -> None:
    events = [RecordedEvent(0.0, "Paid", {"id": 1}, "s", metadata={"k": 1})]
    match_on = ("event_name", "event_data.id", "event_data.idd", "metadata.k", "metadata.x")
    comparison = match_events(events, events, match_on=match_on)
    assert comparison.unmatched_match_on == ("event_data.idd", "metadata.x")
