"""API answers written by orjson are byte for byte what Flask's standard encoder writes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder.server import create_app
from pytest_eventrecorder.server.jsonout import compact_ascii

pytest.importorskip("orjson")

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def flask_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode()


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_any_json_value_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    data = compact_ascii(value)
    assert data is None or data == flask_bytes(value)


@pytest.mark.parametrize(
    "value",
    [
        {"name": "caf\u00e9 \u20ac \U0001f600", "del": "a\x7fb", "ctl": "\x00\x1f\n\t"},
        [1e-05, 1e-07, 1e16, 1e22, 5e-324, 0.1, -0.0, 2**63, 2**64, -(2**63) - 1],
        {"source": None, "data": [None, 1.5]},
    ],
)
def test_the_cases_orjson_writes_otherwise_come_out_the_same(value: Any) -> None:
    data = compact_ascii(value)
    assert data is None or data == flask_bytes(value)


@pytest.mark.parametrize("value", [{"a": float("nan")}, [None, float("inf")], (None, -1e400)])
def test_a_non_finite_number_is_left_to_the_standard_library(value: Any) -> None:
    assert compact_ascii(value) is None  # which refuses it: the API answers 422


@pytest.mark.parametrize("value", [date(2025, 1, 2), {1: "a"}, "\ud800", 10**30])
def test_what_orjson_writes_its_own_way_is_left_to_the_standard_library(value: Any) -> None:
    assert compact_ascii(value) is None


def test_text_past_ascii_is_escaped_by_the_fast_path_too() -> None:
    value = {"caf\u00e9": "\u20ac \U0001f600 a\x7fb"}
    assert compact_ascii(value) == flask_bytes(value)


def test_jsonify_answers_are_unchanged() -> None:
    app = create_app()
    value = {"b": [1e-07, "\u00e9\x7f", None], "a": {"x": 2**70}}
    with app.app_context():
        answer = app.json.response(value).get_data()
    assert answer == flask_bytes(value) + b"\n"
