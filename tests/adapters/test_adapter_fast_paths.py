"""The positional shortcuts of MethodAdapter capture and replay exactly what binding does."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import MethodAdapter


class Bus:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def publish(self, event_name: Any, event: object, source: Any = "default-src") -> int:
        self.calls.append(((event_name, event, source), {}))
        return len(self.calls)


class Topic:
    def __str__(self) -> str:
        return "topic-as-text"


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __repr__(self) -> str:
        return "<Unprintable>"


def captured(
    bus: object, call: Any, method: str = "publish", **names: Any
) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    adapter = MethodAdapter(bus, method, **names)
    adapter.attach(
        lambda name, event, source=None, metadata=None: seen.append((name, event, source))
    )
    try:
        call()
    finally:
        adapter.detach()
    return seen


def test_every_call_shape_gives_what_binding_gives() -> None:
    bus = Bus()
    assert captured(bus, lambda: bus.publish("A", 1, "s")) == [("A", 1, "s")]
    assert captured(bus, lambda: bus.publish("A", 1)) == [("A", 1, "default-src")]
    assert captured(bus, lambda: bus.publish("A", event=1)) == [("A", 1, "default-src")]
    assert captured(bus, lambda: bus.publish(Topic(), 1, 7)) == [("topic-as-text", 1, "7")]
    assert captured(bus, lambda: bus.publish("A", 1, None)) == [("A", 1, None)]


def test_a_wrong_call_raises_the_originals_error_and_records_nothing() -> None:
    bus, seen = Bus(), []
    adapter = MethodAdapter(bus)
    adapter.attach(lambda name, event, source=None, metadata=None: seen.append(name))
    with pytest.raises(TypeError, match="publish"):
        bus.publish("A", 1, 2, 3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="publish"):
        bus.publish("A")  # type: ignore[call-arg]
    adapter.detach()
    assert seen == []
    assert bus.calls == []


def test_a_name_that_cannot_become_text_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = Bus()
    assert captured(bus, lambda: bus.publish(Unprintable(), 1, "s")) == []
    assert captured(bus, lambda: bus.publish(Unprintable(), event=1)) == []
    assert len(bus.calls) == 2  # the bus still got both calls
    assert "could not capture an event from publish()" in caplog.text


def test_positions_follow_the_named_parameters() -> None:
    class Reordered:
        def send(self, origin: str, payload: object, topic: str) -> None:
            pass

    bus = Reordered()
    names = {"name_arg": "topic", "event_arg": "payload", "source_arg": "origin"}
    assert captured(bus, lambda: bus.send("o", 1, "t"), "send", **names) == [("t", 1, "o")]


def test_end_to_end_recording_returns_what_the_bus_returns() -> None:
    bus = Bus()
    with EventRecorder("s") as recorder:
        recorder.start_recording(bus)
        assert bus.publish("A", {"x": 1}) == 1
        assert bus.publish("B", {"x": 2}, "src") == 2
    assert [(e.event_name, e.source) for e in recorder.events] == [
        ("A", "default-src"),
        ("B", "src"),
    ]


def test_replay_passes_positions_and_a_required_source() -> None:
    class Required:
        def __init__(self) -> None:
            self.calls: list[tuple[Any, ...]] = []

        def publish(self, event_name: str, event: object, source: str | None) -> None:
            self.calls.append((event_name, event, source))

    bus, optional = Required(), Bus()
    events = [RecordedEvent(0.0, "A", {"x": 1}), RecordedEvent(1.0, "B", 2, source="s")]
    EventReplayer.from_events(events).replay(bus, float("inf"))
    EventReplayer.from_events(events).replay(optional, float("inf"))
    assert bus.calls == [("A", {"x": 1}, None), ("B", 2, "s")]
    assert [args for args, _ in optional.calls] == [("A", {"x": 1}, "default-src"), ("B", 2, "s")]


def test_replay_into_a_method_without_a_source() -> None:
    class NoSource:
        def __init__(self) -> None:
            self.calls: list[tuple[Any, ...]] = []

        def fire(self, topic: str, body: object) -> None:
            self.calls.append((topic, body))

    bus = NoSource()
    adapter = MethodAdapter(bus, "fire", name_arg="topic", event_arg="body", source_arg=None)
    adapter.publish(RecordedEvent(0.0, "A", 1, source="ignored"), 1)
    assert bus.calls == [("A", 1)]


def test_a_bus_class_has_its_signature_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A suite attaches to a bus of the same class test after test: 12 us per reading."""
    import inspect

    class OnceBus(Bus):
        def publish(self, event_name: Any, event: object, source: Any = None) -> int:
            return super().publish(event_name, event, source)

    real, seen = inspect.signature, []

    def counting(obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        seen.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(inspect, "signature", counting)
    for n in range(3):
        bus = OnceBus()
        recorder = EventRecorder("s")
        recorder.start_recording(bus)
        bus.publish("A", {"n": n}, "src")
        recorder.halt()
        assert [(e.event_name, e.event_data, e.source) for e in recorder.events] == [
            ("A", {"n": n}, "src")
        ]
        EventReplayer.from_events(recorder.events).replay(bus, float("inf"))
        assert bus.calls[-1] == (("A", {"n": n}, "src"), {})
    assert len(seen) <= 2  # once as a method, once as the function the wrapper copies
