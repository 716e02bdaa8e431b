"""Snapshots: any event becomes JSON-safe data, taken at publish time, never raising."""

from __future__ import annotations

import collections
import dataclasses
import enum
import json
import math
import threading
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import attrs
import pydantic
import pytest

from pytest_eventrecorder.serialize import (
    BYTES_TAG,
    FLOAT_TAG,
    UNSERIALIZABLE_TAG,
    event_type_of,
    has_tags,
    restore,
    snapshot,
)


def is_json_safe(value: object) -> bool:
    return json.loads(json.dumps(value, allow_nan=False)) == value


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


class Priority(enum.IntEnum):
    HIGH = 1


class Order(pydantic.BaseModel):
    symbol: str
    side: Side
    size: Decimal
    placed_at: datetime
    tags: set[str] = set()


class Fill(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)

    order: Order
    fill_price: float = pydantic.Field(alias="fillPrice")


@dataclasses.dataclass
class MarketData:
    symbol: str
    price: float
    volume: float
    at: datetime | None = None


@attrs.define
class Position:
    symbol: str
    size: float
    opened: date


class Plain:
    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._private = "hidden"


class Slotted:
    __slots__ = ("_secret", "price", "symbol")

    def __init__(self, symbol: str, price: float) -> None:
        self.symbol = symbol
        self.price = price
        self._secret = 1


class Point(NamedTuple):
    x: int
    y: int


def test_primitives_and_containers() -> None:
    assert snapshot(None) is None
    assert snapshot("text") == "text"
    assert snapshot(5) == 5
    assert snapshot(True) is True
    assert snapshot(1.5) == 1.5
    assert snapshot((1, [2, (3,)])) == [1, [2, [3]]]
    assert snapshot({"a": {"b": [1]}}) == {"a": {"b": [1]}}
    assert snapshot(collections.OrderedDict(a=1)) == {"a": 1}
    assert snapshot(collections.deque([1, 2])) == [1, 2]
    assert snapshot(range(3)) == [0, 1, 2]


def test_non_string_keys_become_text_as_json_writes_them() -> None:
    assert snapshot({2: "a", None: "b", True: "c", Side.BUY: "d"}) == {
        "2": "a",
        "null": "b",
        "true": "c",
        "buy": "d",
    }


def test_pydantic_v2_model_with_nested_model_and_alias() -> None:
    placed = datetime(2025, 10, 17, 10, 0, tzinfo=timezone.utc)
    order = Order(symbol="BTC/USDT", side=Side.BUY, size=Decimal("0.10"), placed_at=placed)
    data = snapshot(Fill(order=order, fillPrice=67500.0))
    assert data == {
        "order": {
            "symbol": "BTC/USDT",
            "side": "buy",
            "size": "0.10",
            "placed_at": "2025-10-17T10:00:00+00:00",
            "tags": [],
        },
        "fillPrice": 67500.0,
    }
    assert is_json_safe(data)


def test_dataclass_attrs_plain_and_slots() -> None:
    at = datetime(2025, 10, 17, 10, 0, 0, 123456)
    assert snapshot(MarketData("BTC", 1.0, 2.0, at)) == {
        "symbol": "BTC",
        "price": 1.0,
        "volume": 2.0,
        "at": "2025-10-17T10:00:00.123456",
    }
    assert snapshot(Position("ETH", 2.5, date(2025, 1, 2))) == {
        "symbol": "ETH",
        "size": 2.5,
        "opened": "2025-01-02",
    }
    assert snapshot(Plain("SOL")) == {"symbol": "SOL"}
    assert snapshot(Slotted("ADA", 0.5)) == {"price": 0.5, "symbol": "ADA"}


def test_an_object_without_state_is_an_empty_object() -> None:
    class Heartbeat:
        pass

    assert snapshot(Heartbeat()) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Side.SELL, "sell"),
        (Priority.HIGH, 1),
        (
            datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2025-01-02T03:04:05+02:00",
        ),
        (date(2025, 1, 2), "2025-01-02"),
        (time(3, 4, 5, 600), "03:04:05.000600"),
        (timedelta(minutes=1, milliseconds=5), 60.005),
        (Decimal("1.10"), "1.10"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (PurePosixPath("/tmp/x"), "/tmp/x"),
        (b"\x00\xff", {BYTES_TAG: "AP8="}),
        (bytearray(b"hi"), {BYTES_TAG: "aGk="}),
        (memoryview(b"hi"), {BYTES_TAG: "aGk="}),
        ({3, 1, 2}, [1, 2, 3]),
        (frozenset({"b", "a"}), ["a", "b"]),
        (Point(1, 2), {"x": 1, "y": 2}),
        (Fraction(1, 4), 0.25),
        (math.nan, {FLOAT_TAG: "nan"}),
        (-math.inf, {FLOAT_TAG: "-inf"}),
        ([math.inf], [{FLOAT_TAG: "inf"}]),
    ],
)
def test_special_values(value: object, expected: object) -> None:
    data = snapshot(value)
    assert data == expected
    assert is_json_safe(data)


def test_subclasses_of_builtins_become_plain_builtins() -> None:
    class Name(str):
        pass

    class Count(int):
        pass

    data = snapshot({"n": Name("x"), "c": Count(3)})
    assert type(data["n"]) is str
    assert type(data["c"]) is int


def test_mixed_type_sets_are_sorted_deterministically() -> None:
    assert snapshot({1, "a", None}) == snapshot({None, "a", 1})


def test_cycles_become_markers_and_shared_objects_do_not() -> None:
    loop: dict[str, Any] = {"name": "root"}
    loop["self"] = loop
    data = snapshot(loop)
    assert data["name"] == "root"
    assert data["self"][UNSERIALIZABLE_TAG] == "builtins.dict"
    assert data["self"]["reason"] == "refers back to itself"
    shared = [1]
    assert snapshot({"a": shared, "b": shared}) == {"a": [1], "b": [1]}


def test_object_cycles_through_attributes() -> None:
    parent = Plain("parent")
    child = Plain("child")
    parent.child = child  # type: ignore[attr-defined]
    child.parent = parent  # type: ignore[attr-defined]
    data = snapshot(parent)
    assert data["child"]["reason"].startswith("not recorded: an object inside an object")
    node = Node("root", [])
    node.children.append(node)
    assert snapshot(node)["children"][0]["reason"] == "refers back to itself"


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node]


def test_deep_nesting_is_cut_with_a_marker() -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(200):
        node.append([])
        node = node[0]
    data = snapshot(deep)
    assert is_json_safe(data)
    assert "nested deeper" in json.dumps(data)


class Exploding:
    @property
    def price(self) -> float:
        raise RuntimeError("feed is down")

    def __init__(self) -> None:
        self.symbol = "BTC"


@dataclasses.dataclass
class BrokenField:
    value: int

    def __getattribute__(self, name: str) -> Any:
        if name == "value":
            raise KeyError("gone")
        return super().__getattribute__(name)


class BadModel(pydantic.BaseModel):
    x: int

    @pydantic.model_serializer
    def explode(self) -> dict[str, Any]:
        raise ValueError("cannot dump")


class BadRepr:
    __slots__ = ()

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (threading.Lock(), "no known way to convert it"),
        (object(), "no known way to convert it"),
        (lambda: 1, "no known way to convert it"),
        (len, "callable (code, not data)"),
        (MarketData, "no known way to convert it"),
        (json, "no known way to convert it"),
        (iter([1]), "no known way to convert it"),
        (1 + 2j, "no known way to convert it"),
        (BrokenField(1), "KeyError"),
        (BadModel(x=1), "cannot dump"),
        (BadRepr(), "no known way to convert it"),
    ],
)
def test_unconvertible_values_become_markers_and_never_raise(value: object, reason: str) -> None:
    data = snapshot({"event": value, "ok": 1})
    assert data["ok"] == 1
    marker = data["event"]
    assert set(marker) == {UNSERIALIZABLE_TAG, "reason", "repr"}
    assert reason in marker["reason"]
    assert is_json_safe(data)


def test_a_raising_property_does_not_reach_the_publisher() -> None:
    data = snapshot(Exploding())
    assert data == {"symbol": "BTC"}  # properties are not state; __dict__ is


def test_marker_repr_is_bounded() -> None:
    class Huge:
        __slots__ = ()

        def __repr__(self) -> str:
            return "x" * 10_000

    assert len(snapshot(Huge())["repr"]) == 200


def test_snapshot_shares_nothing_mutable_with_the_event() -> None:
    event = {"prices": [1.0, 2.0], "meta": {"k": "v"}}
    data = snapshot(event)
    event["prices"].append(3.0)  # type: ignore[attr-defined]
    event["meta"]["k"] = "changed"  # type: ignore[index]
    assert data == {"prices": [1.0, 2.0], "meta": {"k": "v"}}


def test_event_type_of_names_typed_events_only() -> None:
    assert event_type_of(MarketData("B", 1, 1)) == f"{__name__}:MarketData"
    assert event_type_of(Point(1, 2)) == f"{__name__}:Point"
    assert event_type_of({"a": 1}) is None
    assert event_type_of([1]) is None
    assert event_type_of("text") is None
    assert event_type_of(None) is None


def test_restore_undoes_tags_and_copies() -> None:
    data = snapshot({"raw": b"\x01", "nan": math.nan, "list": [b"\x02", {"x": 1}]})
    assert has_tags(data)
    back = restore(data)
    assert back["raw"] == b"\x01"
    assert math.isnan(back["nan"])
    assert back["list"] == [b"\x02", {"x": 1}]
    plain = {"a": [1, {"b": 2}]}
    assert not has_tags(plain)
    copy = restore(plain)
    assert copy == plain
    assert copy is not plain
    assert copy["a"] is not plain["a"]


def test_restore_leaves_look_alike_data_alone() -> None:
    not_base64 = {BYTES_TAG: "%%%"}
    assert restore(not_base64) == not_base64
    two_keys = {BYTES_TAG: "AA==", "other": 1}
    assert restore(two_keys) == two_keys
    assert restore({FLOAT_TAG: "1.5"}) == {FLOAT_TAG: "1.5"}
