"""RabbitMQ, for real: routing keys, bodies and properties recorded through a private queue
(consumers' queues keep every message), replayed byte for byte."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import EXPECTED_DATA, PAYLOADS, TcpProxy, closed_port, wait_for

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
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


TYPED_HEADERS = {
    "price": Decimal("1.23"),
    "scaled": Decimal("-0.500"),
    "when": datetime(2026, 1, 2, 3, 4, 5),
    "text": "1.23",
    "nested": {"limit": Decimal("7"), "at": [datetime(2025, 12, 31, 23, 59, 59), "x"]},
}


def test_decimal_and_timestamp_headers_keep_their_amqp_types(
    amqp_url: str,
    channel: Any,
    uid: str,
    tmp_path: Path,
    recording: Callable[[object], EventRecorder],
) -> None:
    """AMQP's decimal and timestamp field values come back as themselves, not as text; the
    cassette still shows them readably."""
    original = bound_queue(channel, uid)
    recorder = recording(f"{amqp_url}?channel={uid}")
    channel.basic_publish("amq.topic", uid, b"{}", pika.BasicProperties(headers=TYPED_HEADERS))
    wait_for(lambda: recorder.events, "the recorded message")
    recorder.stop_recording()
    path = recorder.save("typed.jsonl")
    sent = drain(channel, original, 1)[0][1].headers  # as any consumer receives them
    headers = (EventReplayer(path).events[0].metadata or {})["properties"]["headers"]
    assert (headers["price"], headers["when"]) == ("1.23", "2026-01-02T03:04:05+00:00")

    listener = bound_queue(channel, uid)
    EventReplayer(path).replay(amqp_url, math.inf)
    replayed = drain(channel, listener, 1)[0][1].headers
    assert replayed == sent
    assert _types(replayed) == _types(sent)


def test_a_header_type_that_names_nothing_is_a_clear_error(amqp_url: str, uid: str) -> None:
    event = RecordedEvent(
        event_name=uid,
        event_data={},
        timestamp_offset_ms=0.0,
        metadata={
            "properties": {"headers": {"price": "1.23"}},
            "header_types": [[["cost"], "decimal"]],
        },
    )
    with (
        adapter_for(amqp_url) as adapter,
        pytest.raises(
            ValueError, match=r"header_types: \[\['cost'\], 'decimal'\] does not name a decimal"
        ),
    ):
        adapter.publish(event, {})


def _types(value: object) -> object:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


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
