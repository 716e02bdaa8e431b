"""Field matchers (pytest_eventrecorder.matchers), including dirty-equals objects."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pytest_eventrecorder.matchers import (
    any_of_type,
    approx,
    as_matcher,
    as_matchers,
    ignore,
    regex,
    unordered,
)


@pytest.mark.parametrize(
    ("matcher", "recorded", "actual", "ok"),
    [
        (approx(rel=1e-3), 101.0, 101.05, True),
        (approx(rel=1e-3), 101.0, 101.3, False),
        (approx(abs=0.5), 1, 1.4, True),
        (approx(), 1.0, 1.0 + 1e-9, True),
        (approx(), 1.0, 1.001, False),
        (approx(rel=1e-3), "101.00", "101.05", True),  # Decimals are stored as text
        (approx(rel=1e-3), "101.00", 101.05, True),
        (approx(rel=1e-3), "abc", "abc", True),
        (approx(rel=1e-3), "abc", "abd", False),
        (approx(rel=1e-3), True, 1, False),
        (any_of_type(), 1, 2.5, True),
        (any_of_type(), 1, True, False),
        (any_of_type(), "a", None, False),
        (any_of_type(str), 1, "x", True),
        (any_of_type(int), 1, True, False),
        (regex(r"ord-\d+"), "ord-1", "ord-42", True),
        (regex(r"ord-\d+"), "ord-1", "ord-42x", False),
        (regex(r"ord-\d+"), "ord-1", 42, False),
        (unordered(), [1, {"a": [2]}, 1], [{"a": [2]}, 1, 1], True),
        (unordered(), [1, 1, 2], [1, 2, 2], False),
        (ignore(), 1, None, True),
        (as_matcher(lambda recorded, actual: actual > recorded), 1, 2, True),
    ],
)
def test_builtin_matchers(matcher: Any, recorded: Any, actual: Any, ok: bool) -> None:
    assert as_matcher(matcher).matches(recorded, actual) is ok


def test_matchers_name_themselves_for_reports() -> None:
    assert str(approx(rel=0.001)) == "approx rel=0.001"
    assert str(approx()) == "approx rel=1e-06"
    assert str(any_of_type(int, float)) == "any_of_type int, float"
    assert str(regex("a+")) == "regex 'a+'"
    assert str(unordered()) == "unordered"

    def later(recorded: Any, actual: Any) -> bool:
        return True

    assert str(as_matcher(later)).endswith("later")


def test_dirty_equals_objects_work_when_installed() -> None:
    dirty = pytest.importorskip("dirty_equals")
    assert as_matcher(dirty.IsStr).matches("a", "b")
    assert not as_matcher(dirty.IsStr).matches("a", 3)
    near = as_matcher(dirty.IsApprox(101.0, delta=0.5))
    assert near.matches(101.0, 101.3)
    assert not near.matches(101.0, 102.0)
    assert "IsApprox" in str(near)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: approx(rel=-1), "approx(rel=...) must be a number >= 0"),
        (lambda: regex("("), "regex('(')"),
        (lambda: any_of_type("str"), "takes types"),  # type: ignore[arg-type]
        (lambda: as_matchers(["price"]), "must be a dict"),
        (lambda: as_matchers({"": approx()}), "non-empty text"),
        (lambda: as_matchers({"event_data.total": 5}), "5 is not a matcher"),
    ],
)
def test_bad_matchers_say_what_is_wrong(make: Any, fragment: str) -> None:
    with pytest.raises((TypeError, ValueError), match=re.escape(fragment)):
        make()


def test_a_callable_must_answer_a_bool() -> None:
    with pytest.raises(TypeError, match="must answer True or False"):
        as_matcher(lambda a, b: "yes").matches(1, 2)
