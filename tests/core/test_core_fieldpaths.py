"""Dotted field paths, shared by ignore_fields and redact."""

from __future__ import annotations

import pytest

from pytest_eventrecorder.fieldpaths import drop_fields, parse_paths, replace_fields

DATA = {"api_key": "k", "account": {"id": 7, "iban": "X"}, "items": [{"id": 1}, {"id": 2}]}


def test_replace_by_exact_path_wildcard_and_list_index() -> None:
    paths = parse_paths(["api_key", "account.*", "items.*.id"])
    assert replace_fields(DATA, paths, "R") == {
        "api_key": "R",
        "account": {"id": "R", "iban": "R"},
        "items": [{"id": "R"}, {"id": "R"}],
    }
    assert DATA["api_key"] == "k"  # a copy: the original is untouched


def test_drop_and_missing_paths() -> None:
    assert drop_fields(DATA, parse_paths(["account.iban", "items.1", "nope.deeper"])) == {
        "api_key": "k",
        "account": {"id": 7},
        "items": [{"id": 1}],
    }
    assert drop_fields("scalar", parse_paths(["x"])) == "scalar"
    assert drop_fields(DATA, ()) is DATA


@pytest.mark.parametrize("bad", [["a."], [".a"], [None], "a"])
def test_bad_paths_are_named(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="redact"):
        parse_paths(bad, what="redact")


# --------------------------------------------------------------------------- one grammar


@pytest.mark.parametrize(
    ("written", "short"),
    [
        ("event_data.account.iban", "account.iban"),
        ("event_data.items.*.id", "items.*.id"),
        ("event_data.api_key", "api_key"),
    ],
)
def test_the_reported_form_and_the_short_form_name_the_same_field(
    written: str, short: str
) -> None:
    assert parse_paths([written]) == parse_paths([short])
    assert drop_fields(DATA, parse_paths([written])) == drop_fields(DATA, parse_paths([short]))
    assert drop_fields(DATA, parse_paths([written])) != DATA


def test_a_quoted_segment_is_one_literal_key() -> None:
    data = {"unit.price": 1, "unit": {"price": 2}, "a*": 3, "ab": 4, "event_data": {"x": 5}}
    assert drop_fields(data, parse_paths(['event_data."unit.price"'])) == {
        k: v for k, v in data.items() if k != "unit.price"
    }
    assert drop_fields(data, parse_paths(["'a*'"])) == {
        k: v for k, v in data.items() if k != "a*"
    }
    # the prefix is stripped only when written bare: a quoted one names a key of that name
    assert drop_fields(data, parse_paths(['"event_data".x'])) == dict(data, event_data={})
    assert drop_fields(data, parse_paths(["event_data.event_data.x"])) == dict(
        data, event_data={}
    )


def test_the_dashboards_question_mark_for_a_dot_still_works() -> None:
    assert drop_fields({"a.b": 1, "c": 2}, parse_paths(["a?b"])) == {"c": 2}


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("price", "price"),
        ("order-id", "order-id"),
        ("unit.price", '"unit.price"'),
        ("unit price", '"unit price"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a*", '"a*"'),
        ("", '""'),
    ],
)
def test_a_printed_key_reads_back_as_that_key(key: str, shown: str) -> None:
    from pytest_eventrecorder.fieldpaths import join_path, parse_path

    assert join_path("event_data", key) == f"event_data.{shown}"
    assert drop_fields({key: 1, "other": 2}, [parse_path(f"event_data.{shown}")]) == {"other": 2}


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (['a."b'], "never closed"),
        (['a."b"c'], "after a quoted key"),
        (["a.'\\q'"], "unknown escape"),
        (["event_data."], "empty segment"),
    ],
)
def test_bad_quoting_is_named(bad: list[str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_paths(bad, what="ignore_fields")


def test_unmatched_paths_are_the_ones_that_reach_no_field_anywhere() -> None:
    from pytest_eventrecorder.fieldpaths import PathUsage

    usage = PathUsage(["event_data.api_key", "account.nope", "items.*.id", "ghost"])
    for data in ({"account": {"id": 1}}, DATA, "scalar", None):
        usage.see(data)
    assert usage.unmatched() == ["account.nope", "ghost"]
    assert PathUsage([]).unmatched() == []
