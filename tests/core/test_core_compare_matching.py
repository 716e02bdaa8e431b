"""The diff engine with per-field matchers, a project's match hook, and sequence rules."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.compare import Difference, compare_events
from pytest_eventrecorder.matchers import approx, ignore, regex, unordered
from pytest_eventrecorder.matching import MatchRules, parse_ini_matchers


def ev(name: str, data: Any = None, source: str | None = "bot") -> RecordedEvent:
    return RecordedEvent(0.0, name, data if data is not None else {}, source)


def lines(diffs: list[Difference]) -> list[str]:
    return [line for d in diffs for line in d.field_diffs]


def test_a_matched_field_within_its_matcher_is_no_difference() -> None:
    rules = MatchRules.build({"event_data.price": approx(rel=1e-3)})
    recorded = [ev("Order", {"price": 101.0, "qty": 1})]
    actual = [ev("Order", {"price": 101.05, "qty": 1})]
    assert compare_events(recorded, actual, matchers=rules) == []


def test_a_rejected_field_names_its_matcher_and_other_fields_still_compare() -> None:
    rules = MatchRules.build({"price": approx(rel=1e-3), "id": regex(r"o-\d+")})
    recorded = [ev("Order", {"price": 101.0, "qty": 1, "id": "o-1"})]
    diffs = compare_events(
        recorded, [ev("Order", {"price": 101.3, "qty": 2, "id": "x"})], matchers=rules
    )
    assert [(d.kind, d.expected_index, d.actual_index) for d in diffs] == [("changed", 0, 0)]
    assert lines(diffs) == [
        "event_data.qty: 1 != 2",
        "event_data.price: 101.0 != 101.3 (approx rel=0.001)",
        "event_data.id: 'o-1' != 'x' (regex 'o-\\\\d+')",
    ]


def test_matched_fields_leave_the_pairing_key_so_a_dropped_event_shifts_nothing() -> None:
    rules = MatchRules.build({"event_data.items.*.price": approx(abs=0.5)})
    recorded = [ev("Order", {"n": i, "items": [{"price": 10.0 + i}]}) for i in range(3)]
    actual = [ev("Order", {"n": i, "items": [{"price": 10.2 + i}]}) for i in (0, 2)]
    diffs = compare_events(recorded, actual, matchers=rules)
    assert [(d.kind, d.expected_index) for d in diffs] == [("missing", 1)]


def test_unordered_ignore_and_callables() -> None:
    rules = MatchRules.build(
        {"tags": unordered(), "ts": ignore(), "qty": lambda rec, act: act >= rec}
    )
    recorded = [ev("A", {"tags": [1, 2, 2], "ts": 1, "qty": 3})]
    assert compare_events(recorded, [ev("A", {"tags": [2, 1, 2], "qty": 4})], matchers=rules) == []
    diffs = compare_events(recorded, [ev("A", {"tags": [2, 1], "ts": 2, "qty": 2})], matchers=rules)
    assert lines(diffs) == [
        "event_data.tags: [1, 2, 2] != [2, 1] (unordered)",
        "event_data.qty: 3 != 2 (test_unordered_ignore_and_callables.<locals>.<lambda>)",
    ]


def test_a_field_gone_from_one_side_or_a_raising_matcher_is_a_clear_line() -> None:
    def boom(recorded: Any, actual: Any) -> bool:
        raise KeyError("nope")

    rules = MatchRules.build({"price": approx(), "x": boom})
    diffs = compare_events([ev("A", {"price": 1.0, "x": 1})], [ev("A", {"x": 2})], matchers=rules)
    assert lines(diffs) == [
        "event_data.price: 1.0 != <missing> (approx rel=1e-06)",
        "event_data.x: 1 != 2 (test_a_field_gone_from_one_side_or_a_raising_matcher_is_a_clear_"
        "line.<locals>.boom raised KeyError: 'nope')",
    ]


def test_the_project_hook_answers_first_non_none_for_every_other_differing_field() -> None:
    seen: list[tuple[Any, Any, str]] = []

    def hook(recorded: Any, actual: Any, path: str) -> bool | None:
        seen.append((recorded, actual, path))
        if path == "event_data.host":
            return True
        return False if path == "event_data.qty" else None

    rules = MatchRules.build({}, hook=hook)
    recorded = [ev("A", {"host": "a", "qty": 1, "n": 1})]
    diffs = compare_events(recorded, [ev("A", {"host": "b", "qty": 2, "n": 2})], matchers=rules)
    assert lines(diffs) == [
        "event_data.qty: 1 != 2 (rejected by pytest_eventrecorder_match)",
        "event_data.n: 1 != 2",
    ]
    assert ("a", "b", "event_data.host") in seen
    accepted = [ev("A", {"host": "b", "qty": 1, "n": 1})]
    assert compare_events(recorded, accepted, matchers=rules) == []


def test_ini_matchers_are_parsed_not_evaluated() -> None:
    parsed = parse_ini_matchers(
        [
            "event_data.price approx(rel=1e-3)",
            'event_data."unit price" approx(abs=0.01)',
            r"order_id regex('o-\d+')",
            "tags unordered()",
            "ts ignore()",
            "qty any_of_type(int, float)",
        ]
    )
    assert [(path, str(m)) for path, m in parsed.items()] == [
        ("event_data.price", "approx rel=0.001"),
        ('event_data."unit price"', "approx abs=0.01"),
        ("order_id", "regex 'o-\\\\d+'"),
        ("tags", "unordered"),
        ("ts", "ignore"),
        ("qty", "any_of_type int, float"),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("price approx(rel=__import__('os'))", "only numbers, text and the type names"),
        ("price nope(1)", "unknown matcher 'nope'"),
        ("price", "write '<field path> <matcher>(...)'"),
        ("price approx(rel=-1)", "must be a number >= 0"),
        ("price any_of_type(object)", "only numbers, text and the type names"),
    ],
)
def test_bad_ini_matchers_name_the_line(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match="event_recorder_matchers") as info:
        parse_ini_matchers([line])
    assert problem in str(info.value)
    assert repr(line) in str(info.value)


# --------------------------------------------------------------------------- sequence rules


def kinds(diffs: list[Difference]) -> list[tuple[str, str, int | None, int | None]]:
    return [(d.kind, d.event_name, d.expected_index, d.actual_index) for d in diffs]


def test_per_source_order_is_the_default_and_global_order_sees_sources_swap() -> None:
    recorded = [ev("A", source="s1"), ev("B", source="s2")]
    swapped = [ev("B", source="s2"), ev("A", source="s1")]
    assert compare_events(recorded, swapped) == []
    assert compare_events(recorded, swapped, ordered="per_source") == []
    assert kinds(compare_events(recorded, swapped, ordered="global")) == [("moved", "B", 1, 0)]
    assert compare_events(recorded, swapped, ordered=False) == []


def test_per_key_keeps_order_only_within_each_key() -> None:
    def order(oid: int, step: str) -> RecordedEvent:
        return ev("OrderPlaced", {"order_id": oid, "step": step})

    rule = {"OrderPlaced": "per_key:event_data.order_id"}
    recorded = [order(1, "a"), order(2, "a"), order(1, "b"), order(2, "b")]
    interleaved = [order(2, "a"), order(2, "b"), order(1, "a"), order(1, "b")]
    assert compare_events(recorded, interleaved, ordered=rule) == []
    assert kinds(compare_events(recorded, interleaved)) != []
    within_key = [order(1, "b"), order(2, "a"), order(1, "a"), order(2, "b")]
    assert [d.kind for d in compare_events(recorded, within_key, ordered=rule)] == ["moved"]


def test_names_not_in_the_rules_keep_per_source_order_and_any_drops_order() -> None:
    rule = {"Tick": "any"}
    recorded = [ev("Tick", {"n": 1}), ev("Tick", {"n": 2}), ev("A"), ev("B")]
    actual = [ev("Tick", {"n": 2}), ev("Tick", {"n": 1}), ev("B"), ev("A")]
    assert [d.event_name for d in compare_events(recorded, actual, ordered=rule)] == ["B"]


@pytest.mark.parametrize(
    ("ordered", "problem"),
    [
        ("sometimes", "ordered must be"),
        ({"A": "per_key:"}, "empty"),
        ({"A": "by_magic"}, "ordered['A']"),
        ({1: "global"}, "event names"),
        (1, "ordered must be"),
    ],
)
def test_bad_sequence_rules_say_what_is_accepted(ordered: Any, problem: str) -> None:
    with pytest.raises((ValueError, TypeError), match="ordered") as info:
        compare_events([], [], ordered=ordered)
    assert problem in str(info.value)


def test_a_missing_events_data_line_still_shows_its_matched_fields() -> None:
    rules = MatchRules.build({"price": approx()})
    recorded = [ev("Order", {"price": 1.0, "ts": 5})]
    diffs = compare_events(recorded, [], matchers=rules, ignore_fields=["ts"])
    assert lines(diffs) == ["event_data: {'price': 1.0}"]
