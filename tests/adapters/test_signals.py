"""blinker, pyee and PyPubSub, with the real libraries: record, leave them as they were, replay."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from typing import Any

import blinker
import pytest
from pubsub import pub
from pubsub.core.publisher import Publisher
from pyee import EventEmitter

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import (
    BlinkerAdapter,
    PubSubAdapter,
    PyeeAdapter,
    adapter_for,
)

Recording = Callable[[object], EventRecorder]


def recorded(recorder: EventRecorder) -> list[tuple[str, object, str | None]]:
    return [(e.event_name, e.event_data, e.source) for e in recorder.events]


# --------------------------------------------------------------------------- blinker


def test_blinker_namespace_records_every_signal_even_later_ones(recording: Recording) -> None:
    ns = blinker.Namespace()
    placed = ns.signal("order.placed")
    placed.connect(lambda sender, **kw: kw["id"] * 10, weak=False)
    recorder = recording(ns)
    assert isinstance(adapter_for(ns), BlinkerAdapter)

    results = placed.send("shop", id=4)
    assert [value for _receiver, value in results] == [40]  # send's result is untouched
    ns.signal("order.shipped").send(None, id=4, carrier="post")
    assert recorded(recorder) == [
        ("order.placed", {"id": 4}, "shop"),
        ("order.shipped", {"id": 4, "carrier": "post"}, None),
    ]


def test_blinker_detach_leaves_no_trace(recording: Recording) -> None:
    ns = blinker.Namespace()
    early = ns.signal("early")
    recorder = recording(ns)
    late = ns.signal("late")
    recorder.stop_recording()
    assert type(ns) is blinker.Namespace
    assert vars(ns) == {}
    assert "send" not in vars(early)
    assert "send" not in vars(late)
    late.send("x")
    assert recorder.events == []


def test_blinker_default_namespace_sees_signals_made_with_blinker_signal(
    recording: Recording,
) -> None:
    recorder = recording(blinker.default_namespace)
    name = f"test-{uuid.uuid4().hex}"
    blinker.signal(name).send(object(), value=1)
    assert recorder.events[0].event_name == name
    assert recorder.events[0].source == "builtins.object"


def test_blinker_receiver_errors_propagate_and_muted_signals_are_silent(
    recording: Recording,
) -> None:
    ns = blinker.Namespace()
    sig = ns.signal("fails")

    def broken(sender: object, **kw: object) -> None:
        raise ValueError("receiver broke")

    sig.connect(broken)
    recorder = recording(ns)
    with pytest.raises(ValueError, match="receiver broke"):
        sig.send("s", n=1)
    with sig.muted():
        sig.send("s", n=2)
    assert recorded(recorder) == [("fails", {"n": 1}, "s")]


def test_blinker_send_async_is_recorded(recording: Recording) -> None:
    ns = blinker.Namespace()
    sig = ns.signal("async.tick")

    async def receiver(sender: object, **kw: object) -> str:
        return "done"

    sig.connect(receiver)
    recorder = recording(ns)
    results = asyncio.run(sig.send_async("clock", n=1))
    assert [value for _r, value in results] == ["done"]
    assert recorded(recorder) == [("async.tick", {"n": 1}, "clock")]


def test_a_single_blinker_signal_and_an_anonymous_one(recording: Recording) -> None:
    named = blinker.NamedSignal("price")
    recorder = recording(named)
    named.send("feed", bid=1.5)
    anonymous = blinker.Signal()
    with pytest.raises(TypeError, match="needs BlinkerAdapter"):
        adapter_for(anonymous)
    recorder.start_recording(BlinkerAdapter(anonymous, name="anon"))
    anonymous.send(None, x=1)
    assert recorded(recorder) == [("price", {"bid": 1.5}, "feed"), ("anon", {"x": 1}, None)]


def test_blinker_replay_sends_keyword_arguments_to_the_named_signal() -> None:
    ns = blinker.Namespace()
    got: list[tuple[object, dict[str, Any]]] = []
    ns.signal("order.placed").connect(lambda sender, **kw: got.append((sender, kw)), weak=False)
    events = [
        RecordedEvent(0.0, "order.placed", {"id": 1}, "shop"),
        RecordedEvent(1.0, "nobody.listens", {"id": 2}, "shop"),
    ]
    result = EventReplayer.from_events(events).replay(ns, math.inf)
    assert result.published == 2
    assert got == [("shop", {"id": 1})]
    assert "nobody.listens" not in ns  # replay does not create signals

    app = object()
    EventReplayer.from_events(events[:1]).replay(BlinkerAdapter(ns, sender=app), math.inf)
    assert got[-1] == (app, {"id": 1})
    with pytest.raises(TypeError, match=r"keyword arguments.*carries str"):
        EventReplayer.from_events([RecordedEvent(0.0, "order.placed", "text")]).replay(ns)


# --------------------------------------------------------------------------- pyee


def test_pyee_emit_is_recorded_without_changing_its_result(recording: Recording) -> None:
    ee = EventEmitter()
    seen: list[object] = []
    ee.on("order", seen.append)
    recorder = recording(ee)
    assert isinstance(adapter_for(ee), PyeeAdapter)
    assert ee.emit("order", {"id": 1}) is True
    assert ee.emit("unheard", 5) is False
    ee.emit("pair", 1, 2, key="k")
    ee.emit("nothing")
    with pytest.raises(RuntimeError, match="kaput"):
        ee.emit("error", RuntimeError("kaput"))  # pyee raises unhandled errors, as always
    assert [e.event_name for e in recorder.events] == [
        "order",
        "unheard",
        "pair",
        "nothing",
        "error",
    ]
    assert recorder.events[2].event_data == {"args": [1, 2], "kwargs": {"key": "k"}}
    assert seen == [{"id": 1}]


def test_pyee_internal_new_listener_events_are_not_recorded(recording: Recording) -> None:
    ee = EventEmitter()
    recorder = recording(ee)
    ee.on("x", lambda: None)
    assert recorder.events == []
    recorder.stop_recording()
    assert "emit" not in vars(ee)


def test_pyee_replay_rebuilds_each_call(recording: Recording) -> None:
    source = EventEmitter()
    recorder = recording(source)
    source.emit("one", {"a": 1})
    source.emit("many", 1, 2, flag=True)
    source.emit("none")
    recorder.stop_recording()

    target = EventEmitter()
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for name in ("one", "many", "none"):
        target.on(name, lambda *a, _n=name, **kw: calls.append((_n, a, kw)))
    EventReplayer.from_events(recorder.events).replay(target, math.inf)
    assert calls == [("one", ({"a": 1},), {}), ("many", (1, 2), {"flag": True}), ("none", (), {})]


# --------------------------------------------------------------------------- PyPubSub


def test_pypubsub_messages_are_recorded_before_listeners_run(recording: Recording) -> None:
    publisher = Publisher()
    order: list[str] = []

    def listener(order_id: int) -> None:
        order.append(f"listener {order_id}")
        raise KeyError("listener failed")

    publisher.subscribe(listener, "orders.placed")
    recorder = recording(publisher)
    assert isinstance(adapter_for(publisher), PubSubAdapter)
    with pytest.raises(KeyError, match="listener failed"):
        publisher.sendMessage("orders.placed", order_id=3)
    assert order == ["listener 3"]
    assert recorded(recorder) == [("orders.placed", {"order_id": 3}, None)]
    recorder.stop_recording()
    with pytest.raises(KeyError):
        publisher.sendMessage("orders.placed", order_id=4)
    assert len(recorder.events) == 1


def test_pypubsub_default_publisher_through_the_pub_module(recording: Recording) -> None:
    topic = f"t{uuid.uuid4().hex[:8]}.sub"
    recorder = recording(pub)
    pub.sendMessage(topic, value=[1, 2])
    recorder.stop_recording()
    assert recorded(recorder) == [(topic, {"value": [1, 2]}, None)]

    got: list[object] = []

    def listener(value: object) -> None:
        got.append(value)

    pub.subscribe(listener, topic)
    try:
        EventReplayer.from_events(recorder.events).replay(pub, math.inf)
    finally:
        pub.unsubscribe(listener, topic)
    assert got == [[1, 2]]
