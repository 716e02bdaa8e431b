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
