"""Typed events come back as their classes when replayed with ``events_module_name``."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import EventRebuildError, EventRecorder, EventReplayer, VirtualClock
from pytest_eventrecorder.serialize import import_events_module, rebuild

EVENTS_SOURCE = """
from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple, Optional
from uuid import UUID

import attrs
import pydantic


class Side(enum.Enum):
    BUY = "buy"
    SELL = "sell"


class Fill(pydantic.BaseModel):
    price: float
    at: datetime


class OrderFilled(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)

    order_id: UUID = pydantic.Field(alias="orderId")
    side: Side
    fills: list[Fill]
    fee: Decimal


@dataclasses.dataclass
class Quote:
    bid: float
    ask: float


@dataclasses.dataclass
class MarketDataReceived:
    symbol: str
    price: float
    at: datetime
    quote: Quote
    history: list[Quote]
    raw: bytes
    window: timedelta
    tags: frozenset[str]
    note: Optional[str] = None
    settles: date | None = None


@attrs.define
class PositionOpened:
    symbol: str
    size: float
    opened_at: datetime
    quote: Quote
    _internal: int = 0


class PlainAlert:
    def __init__(self, level: str, when: datetime) -> None:
        self.level = level
        self.when = when


class UrgentAlert(PlainAlert):
    pass


class Snapshot:
    # takes no arguments: attributes are set after construction
    def __init__(self) -> None:
        self.ready = False


class Point(NamedTuple):
    x: int
    y: int


class Outer:
    @dataclasses.dataclass
    class Inner:
        value: int
"""

AT = datetime(2025, 10, 17, 10, 0, 0, 250000, tzinfo=timezone.utc)


def record(bus: ServiceBus, publish: Callable[[ServiceBus], None]) -> EventReplayer:
    with EventRecorder("typed") as recorder:
        recorder.start_recording(bus)
        publish(bus)
    return EventReplayer(recorder.to_cassette(), clock=VirtualClock())


def replayed(replayer: EventReplayer, module: str | None) -> list[Any]:
    target = ServiceBus()
    replayer.replay(target, events_module_name=module)
    return [event for _, event, _ in target.published]


def test_every_kind_of_class_is_rebuilt_with_typed_fields(
    bus: ServiceBus, events_module: Callable[[str], str]
) -> None:
    name = events_module(EVENTS_SOURCE)
    ev = import_events_module(name)
    quote = ev.Quote(1.0, 2.0)
    originals = [
        ev.OrderFilled(
            order_id=UUID(int=7),
            side=ev.Side.SELL,
            fills=[ev.Fill(price=1.5, at=AT)],
            fee=Decimal("0.001"),
        ),
        ev.MarketDataReceived(
            "BTC/USDT",
            67500,
            AT,
            quote,
            [quote, ev.Quote(3.0, 4.0)],
            b"\x00\x01",
            timedelta(seconds=1.5),
            frozenset({"a", "b"}),
            settles=date(2025, 10, 20),
        ),
        ev.PositionOpened("ETH", 2.0, AT, quote, internal=5),
        ev.Side.BUY,
        ev.Point(1, 2),
        ev.Outer.Inner(3),
    ]

    def publish(b: ServiceBus) -> None:
        for event in originals:
            b.publish(type(event).__name__, event, "test")

    rebuilt = replayed(record(bus, publish), name)
    assert rebuilt[:3] == originals[:3]
    assert isinstance(rebuilt[1].price, float)  # recorded as 67500, annotated float
    assert rebuilt[1].at == AT
    assert rebuilt[1].raw == b"\x00\x01"
    assert rebuilt[3] is ev.Side.BUY
    assert rebuilt[4] == ev.Point(1, 2)
    assert rebuilt[5] == ev.Outer.Inner(3)


def test_plain_classes_are_rebuilt_through_init_or_attributes(
    bus: ServiceBus, events_module: Callable[[str], str]
) -> None:
    name = events_module(EVENTS_SOURCE)
    ev = import_events_module(name)
    snap = ev.Snapshot()
    snap.ready = True

    def publish(b: ServiceBus) -> None:
        b.publish("PlainAlert", ev.PlainAlert("high", AT))
        b.publish("Snapshot", snap)
        b.publish("UrgentAlert", ev.UrgentAlert("max", AT))

    alert, snapshot_back, urgent = replayed(record(bus, publish), name)
    assert isinstance(urgent, ev.UrgentAlert)
    assert urgent.when == AT  # typed through the inherited __init__
    assert isinstance(alert, ev.PlainAlert)
    assert alert.level == "high"
    assert alert.when == AT
    assert isinstance(snapshot_back, ev.Snapshot)
    assert snapshot_back.ready is True


def test_without_a_module_events_replay_as_dicts(
    bus: ServiceBus, events_module: Callable[[str], str]
) -> None:
    ev = import_events_module(events_module(EVENTS_SOURCE))
    replayer = record(bus, lambda b: b.publish("Quote", ev.Quote(1.0, 2.0)))
    assert replayed(replayer, None) == [{"bid": 1.0, "ask": 2.0}]


def test_seed_style_dicts_are_rebuilt_by_event_name(events_module: Callable[[str], str]) -> None:
    """The seed's files have no event_type: the event name picks the class."""
    name = events_module(EVENTS_SOURCE)
    replayer = EventReplayer.from_events([])
    from pytest_eventrecorder import RecordedEvent

    replayer = EventReplayer.from_events([RecordedEvent(0, "Quote", {"bid": 1, "ask": 2})])
    replayer.clock = VirtualClock()
    (quote,) = replayed(replayer, name)
    assert type(quote).__name__ == "Quote"
    assert (quote.bid, quote.ask) == (1.0, 2.0)


def test_unknown_class_replays_as_dict(events_module: Callable[[str], str]) -> None:
    from pytest_eventrecorder import RecordedEvent

    name = events_module(EVENTS_SOURCE)
    event = RecordedEvent(0, "Unknown", {"x": 1}, event_type="elsewhere:Gone")
    assert rebuild(event, import_events_module(name)) == {"x": 1}


def test_data_that_no_longer_fits_its_class_is_a_clear_error(
    events_module: Callable[[str], str],
) -> None:
    from pytest_eventrecorder import RecordedEvent

    module = import_events_module(events_module(EVENTS_SOURCE))
    event = RecordedEvent(0, "Quote", {"bid": 1.0, "spread": 2.0})
    with pytest.raises(EventRebuildError, match=r"'Quote' does not fit .*Quote any more"):
        rebuild(event, module)


def test_a_module_that_cannot_be_imported_is_a_clear_import_error(
    events_module: Callable[[str], str],
) -> None:
    replayer = EventReplayer.from_events([])
    with pytest.raises(ImportError, match=r"cannot import events module 'no_such_pkg\.events'"):
        replayer.replay(ServiceBus(), events_module_name="no_such_pkg.events")
    broken = events_module("raise RuntimeError('half-written module')\n")
    with pytest.raises(ImportError, match="RuntimeError: half-written module"):
        replayer.replay(ServiceBus(), events_module_name=broken)


def test_non_finite_floats_come_back(bus: ServiceBus) -> None:
    replayer = record(bus, lambda b: b.publish("Odd", {"x": math.nan, "y": -math.inf}))
    (data,) = replayed(replayer, None)
    assert math.isnan(data["x"])
    assert data["y"] == -math.inf
