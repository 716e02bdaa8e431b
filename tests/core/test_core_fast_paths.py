"""The hot-path shortcuts give exactly what the general code gives, and fall back to it."""

from __future__ import annotations

import dataclasses
import enum
import gc
import math
from typing import Any

import attrs
import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import EventRecorder, RecordedEvent, serialize
from pytest_eventrecorder.cassette import CassetteError, check_data
from pytest_eventrecorder.recorder import _in_clock_order
from pytest_eventrecorder.serialize import (
    FLOAT_TAG,
    UNSERIALIZABLE_TAG,
    _flat_fields_function,
    pack,
    snapshot,
    snapshot_unpacked,
    unpack,
)


@dataclasses.dataclass
class Tick:
    symbol: str
    price: float
    volume: Any = None


class _Flag(enum.Enum):
    ON = 1


class _Text(str):
    pass


@attrs.define
class SlottedTick:
    symbol: str
    price: float


def test_flat_dataclass_is_copied_field_by_field_in_order() -> None:
    tick = Tick("BTC", 1.5, 3)
    for _ in range(3):  # the first call works the class out, the next ones take the shortcut
        data = snapshot(tick)
        assert data == {"symbol": "BTC", "price": 1.5, "volume": 3}
        assert list(data) == ["symbol", "price", "volume"]
    tick.price = 2.0
    assert data["price"] == 1.5


def test_non_flat_fields_take_the_general_path() -> None:
    snapshot(Tick("warm", 0.0))
    assert snapshot(Tick("BTC", math.inf)) == {
        "symbol": "BTC",
        "price": {FLOAT_TAG: "inf"},
        "volume": None,
    }
    nested = Tick("BTC", 1.0, {"levels": [1, 2]})
    data = snapshot(nested)
    nested.volume["levels"].append(3)
    assert data["volume"] == {"levels": [1, 2]}
    assert snapshot(Tick("BTC", 1.0, b"\x01"))["volume"] == {"__bytes__": "AQ=="}


def test_a_missing_field_becomes_a_marker() -> None:
    tick = Tick("BTC", 1.0)
    snapshot(tick)
    del tick.price
    assert snapshot(tick)[UNSERIALIZABLE_TAG].endswith("Tick")


def test_subclass_of_str_field_is_converted_not_kept() -> None:
    class Symbol(str):
        pass

    snapshot(Tick("warm", 0.0))
    data = snapshot(Tick(Symbol("BTC"), 1.0))
    assert type(data["symbol"]) is str


def test_slotted_attrs_class_takes_the_shortcut_too() -> None:
    for _ in range(2):
        assert snapshot(SlottedTick("ETH", 2.5)) == {"symbol": "ETH", "price": 2.5}


@pytest.mark.parametrize(
    "event",
    [Tick("BTC", 1.5), {"symbol": "BTC", "price": 1.5, "n": 3, "ok": True, "none": None}],
    ids=["dataclass", "dict"],
)
def test_a_packed_event_is_left_alone_by_the_garbage_collector(event: object) -> None:
    pack(event)
    gc.collect()
    gc.collect()  # the shape, shared by every event of that kind, is left alone from now on
    packed = pack(event)
    assert packed is not None
    gc.collect()
    assert not gc.is_tracked(packed)  # a dict would be visited by every later collection
    assert unpack(packed)[0] == snapshot(event)


@pytest.mark.parametrize(
    "event",
    [
        Tick("BTC", 1.5, {"nested": 1}),
        Tick("BTC", math.nan),
        {"nested": [1]},
        {"price": math.inf},
        {1: "int key"},
        {"flag": _Flag.ON},
        {"symbol": _Text("BTC")},
        [1, 2],
        "text",
    ],
)
def test_only_plain_values_are_packed(event: object) -> None:
    assert pack(event) is None


def test_packed_events_come_back_as_recorded(bus: ServiceBus) -> None:
    with EventRecorder("packed") as recorder:
        recorder.start_recording(bus)
        bus.publish("Tick", Tick("BTC", 1.5))
        bus.publish("Quote", {"bid": 1.0, "ask": 1.5})
        bus.publish("Quote", {"ask": 2.5, "bid": 2.0})  # another key order, another shape
        bus.publish("Empty", {})
    gc.collect()
    assert [(e.event_data, e.event_type) for e in recorder.events] == [
        ({"symbol": "BTC", "price": 1.5, "volume": None}, f"{__name__}:Tick"),
        ({"bid": 1.0, "ask": 1.5}, None),
        ({"ask": 2.5, "bid": 2.0}, None),
        ({}, None),
    ]
    assert list(recorder.events[2].event_data) == ["ask", "bid"]


@dataclasses.dataclass
class _Unset:
    a: int
    b: int = dataclasses.field(init=False)  # never set


def test_an_event_whose_packing_fails_is_kept_with_a_marker(bus: ServiceBus) -> None:
    with EventRecorder("broken") as recorder:
        recorder.start_recording(bus)
        for i in range(3):  # the first works the class out, the next ones try the shortcut
            bus.publish("Unset", _Unset(i))
        kept = recorder.record("Unset", _Unset(9))
    assert len(recorder.events) == 4
    for event in [*recorder.events, kept]:
        assert event is not None
        assert event.event_data[UNSERIALIZABLE_TAG] == f"{__name__}._Unset"
        assert event.event_data["reason"].startswith("AttributeError")


def test_a_key_equal_to_a_known_text_key_is_still_converted(bus: ServiceBus) -> None:
    class Tag(str):
        def __str__(self) -> str:
            return "tag:" + str.__str__(self)

    class Alias:
        def __hash__(self) -> int:
            return hash("b")

        def __eq__(self, other: object) -> bool:
            return other == "b"

        def __str__(self) -> str:
            return "alias"

    with EventRecorder("keys") as recorder:
        recorder.start_recording(bus)
        for event in ({"a": 1}, {"b": 1}, {Tag("a"): 1}, {Alias(): 2}):
            bus.publish("E", event)
    data = [e.event_data for e in recorder.events]
    assert data == [{"a": 1}, {"b": 1}, {"tag:a": 1}, {"alias": 2}]


def test_dict_shapes_from_data_pin_no_memory_and_never_stop_packing() -> None:
    for i in range(2 * serialize._CACHE_SIZE):
        assert pack({f"order-{i}": 1}) is not None
    assert len(serialize._DICT_SHAPES) <= serialize._CACHE_SIZE
    long_keys = {"k" * 2000: 1}
    assert pack(long_keys) is None  # not worth a cached shape
    assert snapshot_unpacked(long_keys) == long_keys
    assert pack({"brand_new": 1}) is not None


def test_field_names_python_would_normalize_are_read_by_their_own_name() -> None:
    cls = dataclasses.make_dataclass("Ligature", [("\ufb01", int), ("fi", int)], init=False)
    event = cls()
    setattr(event, "\ufb01", 1)  # noqa: B010 - the very name, not Python's normalized one
    event.fi = 2
    for _ in range(2):
        assert snapshot(event) == {"\ufb01": 1, "fi": 2}
    assert pack(event) is None


def test_names_that_are_not_identifiers_get_no_generated_code() -> None:
    assert _flat_fields_function(Tick, ("class", "ok")) is None
    assert _flat_fields_function(Tick, ("a b",)) is None
    assert _flat_fields_function(Tick, ()) is None
    generated = _flat_fields_function(Tick, ("symbol", "price"))
    assert generated is not None
    as_dict, as_packed = generated
    assert as_dict(Tick("X", 1.0)) == {"symbol": "X", "price": 1.0}
    assert unpack(as_packed(Tick("X", 1.0))) == (
        {"symbol": "X", "price": 1.0},
        f"{__name__}:Tick",
    )
    for not_flat in (math.nan, [1]):
        assert as_dict(Tick("X", not_flat)) is None  # type: ignore[arg-type]
        assert as_packed(Tick("X", not_flat)) is None  # type: ignore[arg-type]


def test_events_read_in_clock_order_keep_each_threads_order() -> None:
    events = [RecordedEvent(t, f"e{i}", i) for i, t in enumerate([1.0, 3.0, 2.0, 3.0, 2.0])]
    ordered = _in_clock_order(list(events), 0.0)
    assert [e.event_name for e in ordered] == ["e0", "e2", "e4", "e1", "e3"]  # stable
    assert [e.timestamp_offset_ms for e in _in_clock_order(list(events[:3]), 2.5)] == [
        2.5,
        2.5,
        3.0,
    ]


def test_an_event_appended_after_stop_returned_is_left_out(bus: ServiceBus) -> None:
    recorder = EventRecorder("late")

    class StopsTheRecorder:
        """Stops the recording while its publish is being recorded, past the first check."""

        model_fields = ()

        def model_dump(self, **options: object) -> dict[str, int]:
            recorder.stop_recording()
            return {"x": 1}

    recorder.start_recording(bus)
    bus.publish("Before", {"x": 0})
    bus.publish("Racing", StopsTheRecorder())
    assert [e.event_name for e in recorder.events] == ["Before"]
    assert recorder.event_count == 1
    recorder.start_recording()
    assert recorder.record("Racing", StopsTheRecorder()) is None
    assert recorder.events == []


def test_record_returns_the_event_as_kept(bus: ServiceBus) -> None:
    with EventRecorder("same") as recorder:
        recorder.start_recording(bus)
        bus.publish("A", {"x": 1})
        kept = [recorder.record("B", Tick("BTC", 1.0)), recorder.record("C", {"x": [1]})]
        bus.publish("D", {"x": 3})
    assert [e.event_name for e in recorder.events] == ["A", "B", "C", "D"]
    assert recorder.events[1:3] == kept
    assert kept[0] is not None
    assert kept[0].event_type == f"{__name__}:Tick"
    assert recorder.events == recorder.events  # built once, the same objects each time
    assert all(a is b for a, b in zip(recorder.events, recorder.events, strict=True))


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("deep", [False, True])
def test_a_non_finite_float_in_flat_or_nested_data_is_refused(bad: float, deep: bool) -> None:
    data: Any = {"a": 1, "b": "x", "c": None, "d": True, "e": bad}
    event = RecordedEvent(0.0, "x", {"outer": data} if deep else data)
    with pytest.raises(CassetteError, match="not a finite number"):
        check_data(event, 0)


def test_flat_data_of_every_scalar_kind_passes() -> None:
    check_data(RecordedEvent(0.0, "x", {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5}), 0)
