"""The hot-path shortcuts give exactly what the general code gives, and fall back to it."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import attrs

from pytest_eventrecorder.serialize import (
    FLOAT_TAG,
    UNSERIALIZABLE_TAG,
    _flat_fields_function,
    snapshot,
)


@dataclasses.dataclass
class Tick:
    symbol: str
    price: float
    volume: Any = None


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


def test_names_that_are_not_identifiers_get_no_generated_code() -> None:
    assert _flat_fields_function(Tick, ("class", "ok")) is None
    assert _flat_fields_function(Tick, ("a b",)) is None
    assert _flat_fields_function(Tick, ()) is None
    generated = _flat_fields_function(Tick, ("symbol", "price"))
    assert generated is not None
    assert generated(Tick("X", 1.0)) == {"symbol": "X", "price": 1.0}
    assert generated(Tick("X", math.nan)) is None
    assert generated(Tick("X", [1])) is None  # type: ignore[arg-type]
