"""RabbitMQ, for real: routing keys, bodies and properties recorded through a private queue
(consumers' queues keep every message), replayed byte for byte."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import EXPECTED_DATA, PAYLOADS, TcpProxy, closed_port, wait_for

from pytest_eventrecorder import EventRecorder, EventReplayer
from pytest_eventrecorder.adapters import BrokerConnectionError, adapter_for

pika = pytest.importorskip("pika")
pytestmark = pytest.mark.broker

HEADERS = {"trace": "t-1", "attempt": 2, "raw": b"\xff"}


@pytest.fixture
def channel(amqp_url: str) -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    yield connection.channel()
    connection.close()


def bound_queue(channel: Any, key: str, exchange: str = "amq.topic") -> str:
    queue: str = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, exchange, routing_key=key)
    return queue


def drain(channel: Any, queue: str, count: int) -> list[tuple[str, Any, bytes]]:
    got: list[tuple[str, Any, bytes]] = []

    def more() -> bool:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is not None:
            got.append((method.routing_key, properties, body))
        return len(got) >= count

    wait_for(more, f"{count} messages in {queue}")
    return got


def test_round_trip_keeps_bytes_and_properties(
    amqp_url: str,
    channel: Any,
    uid: str,
    tmp_path: Path,
    recording: Callable[[object], EventRecorder],
) -> None:
    consumers = bound_queue(channel, f"{uid}.#")  # a real consumer's queue
    recorder = recording(f"{amqp_url}?channel={uid}.%23")
    for kind, payload in PAYLOADS.items():
        properties = pika.BasicProperties(headers=HEADERS, content_type="x/test", message_id=kind)
        channel.basic_publish("amq.topic", f"{uid}.{kind}", payload, properties)
    wait_for(lambda: len(recorder.events) == len(PAYLOADS), "the recorded messages")
    recorder.stop_recording()
    assert len(drain(channel, consumers, len(PAYLOADS))) == len(PAYLOADS)  # nothing taken
    path = recorder.save("amqp.jsonl")

    events = EventReplayer(path).events
    assert [e.event_name for e in events] == [f"{uid}.{kind}" for kind in PAYLOADS]
    assert [e.event_data for e in events] == list(EXPECTED_DATA.values())
    meta = events[0].metadata or {}
    assert meta["exchange"] == "amq.topic"
    assert meta["properties"]["headers"] == {
        "trace": "t-1",
        "attempt": 2,
        "raw": {"__bytes__": "/w=="},
    }

    listener = bound_queue(channel, f"{uid}.#")
    EventReplayer(path).replay(amqp_url, math.inf)
    got = drain(channel, listener, len(PAYLOADS))
    assert [(key, body) for key, _, body in got] == [
        (f"{uid}.{kind}", payload) for kind, payload in PAYLOADS.items()
    ]
    for (_, properties, _), kind in zip(got, PAYLOADS, strict=True):
        assert (properties.headers, properties.content_type) == (HEADERS, "x/test")
        assert properties.message_id == kind


def test_other_exchanges_and_missing_ones(
    amqp_url: str, channel: Any, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    channel.exchange_declare(uid, "fanout", auto_delete=True)
    keep = bound_queue(channel, "", exchange=uid)  # the fanout exchange needs a binding to live
    recorder = recording(f"{amqp_url}?exchange={uid}")
    channel.basic_publish(uid, "any.key", b"fanned out")
    wait_for(lambda: recorder.events, "the fanout message")
    recorder.stop_recording()
    assert [(e.event_name, e.event_data) for e in recorder.events] == [("any.key", "fanned out")]
    assert drain(channel, keep, 1)[0][2] == b"fanned out"

    with pytest.raises(ValueError, match=f"no exchange '{uid}-missing'"):
        EventRecorder("x").start_recording(f"{amqp_url}?exchange={uid}-missing")


def test_refused_and_unauthorised_connections_are_clear(amqp_url: str) -> None:
    with pytest.raises(BrokerConnectionError, match="authentication failed") as caught:
        EventRecorder("x").start_recording("amqp://guest:wrong-secret@127.0.0.1:5672/")
    assert "wrong-secret" not in str(caught.value)
    assert "amqp://guest:***@127.0.0.1:5672/" in str(caught.value)
    with pytest.raises(BrokerConnectionError, match="ConnectionRefusedError"):
        EventRecorder("x").start_recording(f"amqp://127.0.0.1:{closed_port()}/")


def test_a_broker_going_away_ends_the_recording_and_keeps_the_events(
    amqp_url: str, channel: Any, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    proxy = TcpProxy(5672)
    adapter = adapter_for(f"amqp://guest:guest@127.0.0.1:{proxy.port}/?channel={uid}")
    recorder = recording(adapter)
    channel.basic_publish("amq.topic", uid, b"before")
    wait_for(lambda: recorder.events, "the first message")
    proxy.cut()
    wait_for(lambda: adapter.failure is not None, "the failure to be noticed")  # type: ignore[attr-defined]
    recorder.stop_recording()
    assert [e.event_data for e in recorder.events] == ["before"]
    assert "connection lost" in str(adapter.failure)  # type: ignore[attr-defined]
