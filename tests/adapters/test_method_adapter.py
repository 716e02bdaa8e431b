"""MethodAdapter on home-grown buses, and the seed's ServiceBus through adapter_for."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import MethodAdapter, ServiceBusAdapter, adapter_for


class HomeGrownBus:
    """Not the seed's shape: ``fire(topic, /, body, *, origin=...)`` returning a receipt."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, object, str]] = []

    def fire(self, topic: str, /, body: object, *, origin: str = "core") -> str:
        if topic == "boom":
            raise RuntimeError("subscriber failed")
        self.delivered.append((topic, body, origin))
        return f"receipt-{len(self.delivered)}"


class KeywordBus:
    """Events as keyword arguments: ``emit(name, **fields)``."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, dict[str, Any]]] = []

    def emit(self, name: str, **fields: Any) -> None:
        self.delivered.append((name, fields))


class SeedBus:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, object, str | None]] = []

    def publish(self, event_name: str, event: object, source: str | None = None) -> int:
        self.delivered.append((event_name, event, source))
        return len(self.delivered)


def home_adapter(bus: HomeGrownBus) -> MethodAdapter:
    return MethodAdapter(bus, "fire", name_arg="topic", event_arg="body", source_arg="origin")


def test_records_a_home_grown_method_and_keeps_its_return_value(
    recording: Callable[[object], EventRecorder],
) -> None:
    bus = HomeGrownBus()
    recorder = recording(home_adapter(bus))
    assert bus.fire("order.placed", {"id": 1}, origin="shop") == "receipt-1"
    assert bus.fire("order.paid", body=[1, 2]) == "receipt-2"
    assert [(e.event_name, e.event_data, e.source) for e in recorder.events] == [
        ("order.placed", {"id": 1}, "shop"),
        ("order.paid", [1, 2], "core"),  # the default the method applied
    ]


def test_the_bus_raises_what_it_raised_and_the_call_is_still_recorded(
    recording: Callable[[object], EventRecorder],
) -> None:
    bus = HomeGrownBus()
    recorder = recording(home_adapter(bus))
    with pytest.raises(RuntimeError, match="subscriber failed"):
        bus.fire("boom", {})
    with pytest.raises(TypeError):
        bus.fire()  # type: ignore[call-arg]
    assert [e.event_name for e in recorder.events] == ["boom"]


def test_detach_restores_the_instance_exactly() -> None:
    bus, other = HomeGrownBus(), HomeGrownBus()
    adapter = home_adapter(bus)
    adapter.attach(lambda *args, **kwargs: None)
    assert "fire" in vars(bus)
    assert "fire" not in vars(other)
    adapter.detach()
    assert "fire" not in vars(bus)

    def patched(topic: str, /, body: object, *, origin: str = "x") -> str:
        return "patched"

    bus.fire = patched  # type: ignore[method-assign]
    adapter = home_adapter(bus)
    adapter.attach(lambda *args, **kwargs: None)
    adapter.detach()
    assert vars(bus)["fire"] is patched


def test_replay_calls_the_method_with_the_mapped_arguments() -> None:
    bus = HomeGrownBus()
    events = [
        RecordedEvent(0.0, "a", {"n": 1}, "shop"),
        RecordedEvent(1.0, "b", "text", None),
    ]
    EventReplayer.from_events(events).replay(home_adapter(bus), math.inf)
    assert bus.delivered == [("a", {"n": 1}, "shop"), ("b", "text", "core")]


def test_keyword_argument_buses_record_and_replay_the_fields(
    recording: Callable[[object], EventRecorder],
) -> None:
    bus = KeywordBus()
    adapter = MethodAdapter(bus, "emit", name_arg="name", event_arg="fields", source_arg=None)
    recorder = recording(adapter)
    bus.emit("user.created", id=7, email="a@example.org")
    recorder.stop_recording()
    assert recorder.events[0].event_data == {"id": 7, "email": "a@example.org"}
    replay_bus = KeywordBus()
    replay_adapter = MethodAdapter(
        replay_bus, "emit", name_arg="name", event_arg="fields", source_arg=None
    )
    EventReplayer.from_events(recorder.events).replay(replay_adapter, math.inf)
    assert replay_bus.delivered == [("user.created", {"id": 7, "email": "a@example.org"})]


def test_async_methods_stay_async(recording: Callable[[object], EventRecorder]) -> None:
    class AsyncBus:
        async def publish(self, event_name: str, event: object, source: str | None = None) -> str:
            return f"sent {event_name}"

    bus = AsyncBus()
    recorder = recording(bus)
    assert asyncio.run(bus.publish("tick", 1)) == "sent tick"
    assert [e.event_name for e in recorder.events] == ["tick"]


def test_wrong_mappings_are_clear_errors() -> None:
    with pytest.raises(TypeError, match=r"HomeGrownBus.fire\(\) has no parameter 'name'"):
        MethodAdapter(HomeGrownBus(), "fire", name_arg="name", event_arg="body")
    with pytest.raises(TypeError, match=r"has no callable send\(\)"):
        MethodAdapter(HomeGrownBus(), "send")

    class Slotted:
        __slots__ = ()

        def publish(self, event_name: str, event: object) -> None: ...

    with pytest.raises(TypeError, match="does not accept new attributes"):
        adapter_for(Slotted()).attach(lambda *args, **kwargs: None)


def test_the_seed_bus_gets_the_servicebus_adapter(
    recording: Callable[[object], EventRecorder],
) -> None:
    bus = SeedBus()
    assert isinstance(adapter_for(bus), ServiceBusAdapter)
    recorder = recording(bus)
    assert bus.publish("Tick", {"price": 1.5}, "feed") == 1
    recorder.stop_recording()
    replay_bus = SeedBus()
    EventReplayer.from_events(recorder.events).replay(replay_bus, math.inf)
    assert replay_bus.delivered == [("Tick", {"price": 1.5}, "feed")]
    assert "publish" not in vars(bus)
