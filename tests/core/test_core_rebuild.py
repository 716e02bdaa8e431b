"""Typed events come back as their classes when replayed with ``events_module_name``."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import (
    EventRebuildError,
    EventRecorder,
    EventReplayer,
    RecordedEvent,
    VirtualClock,
)
from pytest_eventrecorder.serialize import RebuildWarning, import_events_module, rebuild

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


@dataclasses.dataclass(frozen=True)
class Trade:
    trade_id: UUID
    side: Side
    fee: Decimal
    at: datetime
    fills: tuple[Quote, ...]


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


def test_typed_events_are_rebuilt_by_default_when_their_module_is_imported(
    bus: ServiceBus, events_module: Callable[[str], str]
) -> None:
    ev = import_events_module(events_module(EVENTS_SOURCE))
    order = ev.Trade(
        UUID(int=3), ev.Side.BUY, Decimal("1.25"), AT, (ev.Quote(1.0, 2.0), ev.Quote(3.0, 4.0))
    )

    def publish(b: ServiceBus) -> None:
        for _ in range(2000):
            b.publish("Trade", order)
        b.publish("Quote", ev.Quote(1.0, 2.0))

    replayer = record(bus, publish)
    target = ServiceBus()
    result = replayer.replay(target)
    events = [event for _, event, _ in target.published]
    assert events[:2000] == [order] * 2000
    assert type(events[0].fills[0]) is ev.Quote
    assert type(events[0].fills) is tuple
    assert (type(events[0].fee), type(events[0].trade_id)) == (Decimal, UUID)
    assert events[0].side is ev.Side.BUY
    assert events[0].at == AT
    assert events[-1] == ev.Quote(1.0, 2.0)
    assert result.not_rebuilt == {}


def test_a_class_whose_module_is_not_imported_stays_a_dict_and_is_reported(
    events_module: Callable[[str], str],
) -> None:
    name = events_module(EVENTS_SOURCE)  # written, never imported
    events = [
        RecordedEvent(i, "Quote", {"bid": 1, "ask": 2}, event_type=f"{name}:Quote")
        for i in range(3)
    ]
    target = ServiceBus()
    with pytest.warns(RebuildWarning, match=rf"3 events of type {name}:Quote .*not imported"):
        result = EventReplayer.from_events(events).replay(target, math.inf)
    assert [event for _, event, _ in target.published] == [{"bid": 1, "ask": 2}] * 3
    assert result.not_rebuilt == {f"{name}:Quote": 3}
    assert name not in sys.modules


@pytest.mark.parametrize(
    ("event_type", "why"),
    [
        ("subprocess:Popen", "not a data class"),
        ("os:system", "not a class"),
        ("os:NoSuchThing", "has no"),
    ],
)
def test_only_data_classes_are_constructed_by_default(event_type: str, why: str) -> None:
    events = [
        RecordedEvent(
            0, "Run", {"args": ["touch", "/tmp/h1-should-not-exist"]}, event_type=event_type
        )
    ]
    target = ServiceBus()
    with pytest.warns(RebuildWarning, match=why):
        result = EventReplayer.from_events(events).replay(target, math.inf)
    assert target.published[0][1] == {"args": ["touch", "/tmp/h1-should-not-exist"]}
    assert result.not_rebuilt == {event_type: 1}


def test_plain_classes_are_rebuilt_only_with_an_events_module(
    bus: ServiceBus, events_module: Callable[[str], str]
) -> None:
    name = events_module(EVENTS_SOURCE)
    ev = import_events_module(name)
    replayer = record(bus, lambda b: b.publish("PlainAlert", ev.PlainAlert("high", AT)))
    with pytest.warns(RebuildWarning, match="not a data class"):
        assert replayed(replayer, None) == [{"level": "high", "when": AT.isoformat()}]
    assert isinstance(replayed(replayer, name)[0], ev.PlainAlert)


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
