"""Schema inference, checking and drift (pytest_eventrecorder.schema)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.schema import (
    MAX_ENUM,
    MAX_PROPERTIES,
    RANGE_KEY,
    SchemaError,
    asyncapi_document,
    check,
    drift,
    infer,
    json_schema_document,
    payloads,
)


def ev(name: str, data: Any, source: str | None = "Svc") -> RecordedEvent:
    return RecordedEvent(0.0, name, data, source)


def orders(n: int = 30) -> list[RecordedEvent]:
    start = datetime(2026, 1, 1, 12, 0, 0)
    return [
        ev(
            "OrderPlaced",
            {
                "id": str(uuid.UUID(int=i)),
                "side": "BUY" if i % 2 else "SELL",
                "price": 100 + i / 10,
                "qty": i,
                "at": (start + timedelta(seconds=i)).isoformat(),
                "day": "2026-01-01",
                **({"coupon": f"c{i}"} if i % 5 == 0 else {}),
                "items": [{"sku": f"sku{i}", "n": 1}],
            },
        )
        for i in range(n)
    ]


def test_inference_describes_types_required_formats_enums_and_ranges() -> None:
    payload = asyncapi_document(infer(orders()), "t")["components"]["messages"]["OrderPlaced"]
    schema = payload["payload"]
    props = schema["properties"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"id", "side", "price", "qty", "at", "day", "items"}
    assert props["id"] == {"type": "string", "format": "uuid"}
    assert props["at"] == {"type": "string", "format": "date-time"}
    assert props["day"] == {"type": "string", "format": "date"}
    assert props["side"] == {"type": "string", "enum": ["BUY", "SELL"]}
    assert props["coupon"] == {"type": "string"}  # six distinct values in six: an open set
    assert props["price"]["type"] == "number"
    assert props["price"][RANGE_KEY] == {"minimum": 100.0, "maximum": 102.9}
    assert props["qty"]["type"] == "integer"
    assert props["items"]["items"]["properties"]["sku"] == {"type": "string"}


def test_channels_carry_their_sources_and_counts() -> None:
    events = [ev("A", {}, "s1"), ev("A", {}, "s2"), ev("B", {}, None), ev("A", {}, "s1")]
    doc = asyncapi_document(infer(events), "t")
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["A"]["x-eventrecorder-sources"] == ["s1", "s2"]
    assert doc["channels"]["A"]["x-eventrecorder-events"] == 3
    assert doc["operations"]["publish.A"]["action"] == "send"


def test_integers_and_floats_widen_to_number_and_null_joins_the_types() -> None:
    schema = payloads(asyncapi_document(infer([ev("A", 1), ev("A", 1.5), ev("A", None)]), "t"))
    assert schema["A"]["type"] == ["null", "number"]


def test_an_enum_admits_null_when_null_was_seen() -> None:
    events = [ev("A", {"s": "x" if i % 3 else None}) for i in range(30)]
    doc = asyncapi_document(infer(events), "t")
    assert list(check(doc, events)) == []
    assert payloads(doc)["A"]["properties"]["s"]["enum"] == ["x", None]


def test_more_than_max_enum_values_is_an_open_set() -> None:
    events = [ev("A", {"s": f"v{i % (MAX_ENUM + 1)}"}) for i in range(100)]
    assert "enum" not in payloads(asyncapi_document(infer(events), "t"))["A"]["properties"]["s"]


def test_objects_keyed_by_data_stay_bounded() -> None:
    events = [ev("Book", {f"sym{i}": i for i in range(MAX_PROPERTIES + 50)})]
    schema = payloads(asyncapi_document(infer(events), "t"))["Book"]
    assert len(schema["properties"]) == MAX_PROPERTIES
    assert schema["additionalProperties"]["type"] == "integer"
    assert list(check(asyncapi_document(infer(events), "t"), events)) == []


def test_deep_data_does_not_recurse() -> None:
    deep: Any = "leaf"
    for _ in range(5000):
        deep = [deep]
    channels = infer([ev("Deep", deep)])
    assert channels["Deep"].count == 1


def test_check_reports_every_violation_with_event_index_and_path() -> None:
    events = orders(10)
    doc = asyncapi_document(infer(events), "t")
    changed = list(events)
    data = dict(changed[3].event_data)
    data["price"] = "101.5"
    del data["qty"]
    changed[3] = ev("OrderPlaced", data)
    changed.append(ev("Refund", {}))
    found = [str(v) for v in check(doc, changed)]
    assert found == [
        "event #3 'OrderPlaced': event_data: 'qty' is a required property",
        "event #3 'OrderPlaced': event_data.price: '101.5' is not of type 'number'",
        "event #10 'Refund': event_name: no schema for this name",
    ]


def test_check_enforces_formats_but_not_ranges() -> None:
    events = orders(10)
    doc = asyncapi_document(infer(events), "t")
    data = dict(events[0].event_data, id="not-a-uuid", at="yesterday", price=1e9)
    found = [v.path for v in check(doc, [ev("OrderPlaced", data)])]
    assert found == ["event_data.at", "event_data.id"]


def test_json_schema_form_validates_whole_events_and_reads_back() -> None:
    events = [*orders(10), ev("odd name/with:chars", {"x": 1})]
    doc = json_schema_document(infer(events), "t")
    assert set(payloads(doc)) == {"OrderPlaced", "odd name/with:chars"}
    assert list(check(doc, events)) == []
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(doc).validate(events[-1].to_dict())


def test_component_ids_are_safe_and_unique() -> None:
    doc = asyncapi_document(infer([ev("a/b", {}), ev("a b", {}), ev("a_b", {})]), "t")
    assert list(doc["components"]["messages"]) == ["a_b", "a_b_2", "a_b_3"]
    assert [c["address"] for c in doc["channels"].values()] == ["a/b", "a b", "a_b"]


def test_drift_lists_added_removed_retyped_and_required_changes() -> None:
    old = payloads(asyncapi_document(infer(orders(30)), "old"))
    newer = orders(30)
    newer = [
        ev("OrderPlaced", {**{k: v for k, v in e.event_data.items() if k != "day"}, "qty": "1"})
        for e in newer
    ]
    newer += [ev("Refund", {"id": 1})]
    lines = drift(old, payloads(asyncapi_document(infer(newer), "new")))
    assert "+ Refund: new event name" in lines
    assert "~ OrderPlaced: event_data.day: removed" in lines
    assert "~ OrderPlaced: event_data.qty: type integer -> string" in lines
    assert drift(old, old) == []


def test_drift_sees_optional_fields_and_nested_changes() -> None:
    a = payloads(asyncapi_document(infer([ev("A", {"m": {"x": 1, "y": 1}})] * 3), "a"))
    later = [ev("A", {"m": {"x": 1.5}}), ev("A", {"m": {"x": 1, "y": 2}})]
    b = payloads(asyncapi_document(infer(later), "b"))
    assert drift(a, b) == [
        "~ A: event_data.m.y: now optional",
        "~ A: event_data.m.x: type integer -> number",
    ]


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ([], "mapping at the top"),
        ({"openapi": "3"}, "not an AsyncAPI document"),
        (
            {"asyncapi": "3.0.0", "channels": {"A": {"messages": {"m": {"$ref": "http://x"}}}}},
            "only local references",
        ),
        (
            {"asyncapi": "3.0.0", "channels": {"A": {"messages": {"m": {"$ref": "#/nope"}}}}},
            "points at nothing",
        ),
    ],
)
def test_bad_documents_say_what_is_wrong(doc: object, fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        payloads(doc)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), JSON), min_size=1, max_size=20))
def test_every_recording_matches_the_schema_inferred_from_it(pairs: list[tuple[str, Any]]) -> None:
    events = [ev(name, data) for name, data in pairs]
    channels = infer(events)
    for doc in (asyncapi_document(channels, "t"), json_schema_document(channels, "t")):
        assert list(check(doc, events)) == []
        assert drift(payloads(doc), payloads(doc)) == []
