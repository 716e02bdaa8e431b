"""Redis, for real: pub/sub and streams recorded while a client publishes, replayed exactly."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import EXPECTED_DATA, PAYLOADS, TcpProxy, closed_port, wait_for

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import BrokerConnectionError, adapter_for
from pytest_eventrecorder.adapters.payload import RAW_KEY
from pytest_eventrecorder.serialize import DEFAULT_REDACT_KEYS, REDACTED, Redaction

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.broker


@pytest.fixture
def client(redis_url: str) -> Iterator[Any]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def subscribed(client: Any, pattern: str) -> Any:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    wait_for(lambda: pubsub.get_message(timeout=0.1) is None and pubsub.subscribed, "PSUBSCRIBE")
    return pubsub


def received(pubsub: Any, count: int) -> list[tuple[bytes, bytes]]:
    messages: list[tuple[bytes, bytes]] = []

    def more() -> bool:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            messages.append((message["channel"], message["data"]))
        return len(messages) >= count

    wait_for(more, f"{count} messages")
    return messages


def test_pubsub_round_trip_is_byte_for_byte(
    redis_url: str,
    client: Any,
    uid: str,
    tmp_path: Path,
    recording: Callable[[object], EventRecorder],
) -> None:
    recorder = recording(f"{redis_url}?channel={uid}.*")
    for kind, payload in PAYLOADS.items():
        client.publish(f"{uid}.{kind}", payload)
    client.publish(f"other-{uid}", b"not matched by the channel pattern")
    wait_for(lambda: len(recorder.events) == len(PAYLOADS), "the recorded messages")
    recorder.stop_recording()
    path = recorder.save("redis.jsonl")

    events = EventReplayer(path).events
    assert [e.event_name for e in events] == [f"{uid}.{kind}" for kind in PAYLOADS]
    assert [e.event_data for e in events] == list(EXPECTED_DATA.values())
    assert {e.source for e in events} == {"redis://127.0.0.1:6379"}
    assert events[0].metadata == {"pattern": f"{uid}.*"}

    listener = subscribed(client, f"{uid}.*")
    result = EventReplayer(path).replay(redis_url, math.inf)
    assert result.published == len(PAYLOADS)
    assert received(listener, len(PAYLOADS)) == [
        (f"{uid}.{kind}".encode(), payload) for kind, payload in PAYLOADS.items()
    ]
    listener.close()


def test_keys_the_recorder_redacts_leave_no_raw_copy_of_the_payload(
    redis_url: str, client: Any, uid: str, tmp_path: Path
) -> None:
    """A layout re-encoding does not reproduce would be kept as raw bytes: not when the
    recorder's own redaction (an ``ssn`` key here) hid a value in it."""
    recorder = EventRecorder("r", tmp_path, redaction=Redaction([*DEFAULT_REDACT_KEYS, "ssn"]))
    recorder.start_recording(f"{redis_url}?channel={uid}.*")
    try:
        client.publish(f"{uid}.login", b'{"user":  "bob", "ssn": "123-45"}')
        client.publish(f"{uid}.other", b'{"user":  "bob"}')
        wait_for(lambda: recorder.event_count == 2, "the two messages")
    finally:
        recorder.stop_recording()
    login, other = recorder.events
    assert login.event_data == {"user": "bob", "ssn": REDACTED}
    assert RAW_KEY not in (login.metadata or {})
    assert "123-45" not in recorder.save("r.json").read_text()
    assert RAW_KEY in (other.metadata or {})  # nothing hidden: the exact bytes are kept


def test_a_before_record_hook_that_hides_a_value_leaves_no_raw_copy_of_the_payload(
    redis_url: str, client: Any, uid: str, tmp_path: Path
) -> None:
    """A hook that masks a card number itself: the exact bytes kept for a layout re-encoding
    does not reproduce would still hold it, so they are dropped with the hook's edit."""

    def mask(event: RecordedEvent) -> RecordedEvent:
        if isinstance(event.event_data, dict) and "card" in event.event_data:
            event.event_data["card"] = "****"
        return event

    recorder = EventRecorder("r", tmp_path, before_record=mask)
    recorder.start_recording(f"{redis_url}?channel={uid}.*")
    try:
        client.publish(f"{uid}.pay", b'{"user":  "bob", "card": "4111-1111"}')
        client.publish(f"{uid}.other", b'{"user":  "bob"}')
        wait_for(lambda: recorder.event_count == 2, "the two messages")
    finally:
        recorder.stop_recording()
    pay, other = recorder.events
    assert pay.event_data == {"user": "bob", "card": "****"}
    assert RAW_KEY not in (pay.metadata or {})
    assert "4111" not in recorder.save("r.json").read_text()
    assert RAW_KEY in (other.metadata or {})  # untouched by the hook: the exact bytes are kept


def test_streams_are_read_without_taking_from_consumer_groups(
    redis_url: str, client: Any, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    stream = f"{uid}-orders"
    client.xgroup_create(stream, "workers", id="$", mkstream=True)
    recorder = recording(f"{redis_url}?streams={stream}&channel={uid}-none")
    fields = {b"order": b'{"id": 1}', b"blob": b"\xff\x00", b"note": "café".encode()}
    client.xadd(stream, fields)
    wait_for(lambda: recorder.events, "the stream entry")
    recorder.stop_recording()

    [event] = recorder.events
    assert event.event_name == stream
    assert event.event_data == {"order": {"id": 1}, "blob": {"__bytes__": "/wA="}, "note": "café"}
    # the workers' group still gets the entry: the recorder took nothing
    [[_, [(_, delivered)]]] = client.xreadgroup("workers", "w1", {stream: ">"})
    assert delivered == fields

    EventReplayer.from_events(recorder.events).replay(redis_url, math.inf)
    entries = client.xrange(stream)
    assert [entry_fields for _, entry_fields in entries] == [fields, fields]
    client.delete(stream)


def test_events_from_elsewhere_are_published_as_json(redis_url: str, client: Any, uid: str) -> None:
    listener = subscribed(client, f"{uid}.*")
    events = [RecordedEvent(0.0, f"{uid}.typed", {"price": 1.5}, "bus")]
    EventReplayer.from_events(events).replay(redis_url, math.inf)
    assert received(listener, 1) == [(f"{uid}.typed".encode(), b'{"price":1.5}')]
    listener.close()


def test_connection_refused_is_clear_and_hides_the_password() -> None:
    url = f"redis://app:s3cret@127.0.0.1:{closed_port()}/0"
    with pytest.raises(BrokerConnectionError) as caught:
        EventRecorder("x").start_recording(url)
    message = str(caught.value)
    assert f"redis://app:***@127.0.0.1:{url.split(':')[-1]}" in message
    assert "s3cret" not in message
    assert "refused" in message.lower()
    with pytest.raises(ConnectionError, match="cannot connect"):
        EventReplayer.from_events([RecordedEvent(0.0, "a", 1)]).replay(url)


@pytest.mark.parametrize("loss", ["cut", "drop"])
def test_a_lost_connection_ends_the_recording_and_keeps_the_events(
    client: Any, uid: str, recording: Callable[[object], EventRecorder], loss: str
) -> None:
    """``cut``: the broker goes away. ``drop``: the connection drops, but a reconnect would
    succeed; pub/sub keeps nothing for an absent subscriber, so the recorder does not
    reconnect over a hole nobody would see."""
    proxy = TcpProxy(6379)
    adapter = adapter_for(f"redis://127.0.0.1:{proxy.port}/0?channel={uid}")
    recorder = recording(adapter)
    client.publish(uid, b"before")
    wait_for(lambda: recorder.events, "the first message")
    getattr(proxy, loss)()
    wait_for(lambda: adapter.failure is not None, "the failure to be noticed")  # type: ignore[attr-defined]
    client.publish(uid, b"missed while away")
    recorder.stop_recording()
    assert [e.event_data for e in recorder.events] == ["before"]
    assert f"127.0.0.1:{proxy.port}" in str(adapter.failure)  # type: ignore[attr-defined]
    assert "connection lost" in str(adapter.failure)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "error", "words"),
    [
        ("redis://127.0.0.1:6379/0?strams=x", ValueError, "unknown option"),
        ("redis://127.0.0.1:6379/abc", ValueError, "names a database by number (/0), not 'abc'"),
        ("redis://127.0.0.1:6379/99", BrokerConnectionError, "the server refused: DB index"),
    ],
)
def test_bad_urls_are_clear(url: str, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=re.escape(words)):
        EventRecorder("x").start_recording(url)
