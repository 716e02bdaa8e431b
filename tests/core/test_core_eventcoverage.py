"""Event coverage (pytest_eventrecorder.eventcoverage)."""

from __future__ import annotations

from typing import Any

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.eventcoverage import (
    MAX_SHAPE_DEPTH,
    MAX_SHAPE_PATHS,
    census,
    measure,
    report_lines,
    shape_of,
)


def ev(name: str, data: Any, source: str | None = "S") -> RecordedEvent:
    return RecordedEvent(0.0, name, data, source)


def test_shapes_list_field_paths_with_list_items_merged() -> None:
    data = {"id": 1, "items": [{"sku": "a"}, {"sku": "b", "n": 2}], "meta": {"k": None}}
    assert shape_of(data) == ("id", "items", "items.*.n", "items.*.sku", "meta", "meta.k")
    assert shape_of(5) == ()
    assert shape_of([1, 2]) == ()


def test_shapes_are_bounded() -> None:
    wide = {f"k{i:04d}": i for i in range(MAX_SHAPE_PATHS * 3)}
    assert len(shape_of(wide)) == MAX_SHAPE_PATHS + 1
    assert shape_of(wide)[-1] == "..."
    deep: Any = 1
    for _ in range(1000):
        deep = {"d": deep}
    assert len(shape_of(deep)) == MAX_SHAPE_DEPTH


def test_coverage_counts_distinct_items_and_events_by_volume() -> None:
    traffic = (
        [ev("Tick", {"p": 1}, "Feed")] * 90
        + [ev("Order", {"id": 1}, "Bot")] * 9
        + [ev("Order", {"id": 1, "coupon": "x"}, "Bot")]
    )
    cassettes = census([ev("Tick", {"p": 2}, "Feed"), ev("Order", {"id": 7}, "Bot")])
    result = measure(iter(traffic), cassettes)
    assert [(k.kind, k.covered, k.total) for k in result.kinds] == [
        ("event name", 2, 2),
        ("source", 2, 2),
        ("shape", 2, 3),
    ]
    assert (result.covered, result.total) == (6, 7)
    assert result.events_covered == 99
    assert result.uncovered == ((1, "shape", "Order {coupon, id}"),)


def test_report_lists_the_biggest_gaps_first() -> None:
    traffic = [ev("A", {}), ev("B", {})] + [ev("C", {})] * 5
    result = measure(iter(traffic), census([ev("A", {})]))
    lines = list(report_lines(result, top=2))
    assert lines[3].startswith("  overall")
    assert lines[4] == "  not exercised, by volume (top 2):"
    assert "C" in lines[5]
    assert "5" in lines[5]
    assert len(lines) == 7


def test_nothing_recorded_is_fully_covered() -> None:
    result = measure(iter(()), census(()))
    assert result.percent == 100.0
    assert result.events_percent == 100.0
