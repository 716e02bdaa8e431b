"""MQTT (Mosquitto), for real: QoS, retain flags and MQTT 5 properties recorded while a
client publishes, replayed byte for byte to a subscriber."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import EXPECTED_DATA, PAYLOADS, TcpProxy, closed_port, wait_for

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import BrokerConnectionError, adapter_for

mqtt = pytest.importorskip("paho.mqtt.client")
pytestmark = pytest.mark.broker

from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

QOS = {"json": 2, "spaced-json": 1, "text": 0, "binary": 1, "empty": 0}


class Client:
    """A plain paho client on its own loop thread, collecting what it receives."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.paho = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.paho.on_message = lambda _c, _u, msg: self.received.append(msg)
        self.paho.connect("127.0.0.1", 1883)
        self.paho.loop_start()

    def subscribe(self, topic: str, qos: int = 2) -> None:
        done = threading.Event()
        self.paho.on_subscribe = lambda *args: done.set()
        self.paho.subscribe(topic, qos=qos)
        assert done.wait(5), "no SUBACK"

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, properties: Any = None
    ) -> None:
        self.paho.publish(
            topic, payload, qos=qos, retain=retain, properties=properties
        ).wait_for_publish(5)

    def close(self) -> None:
        self.paho.disconnect()
        self.paho.loop_stop()


@pytest.fixture
def client(mqtt_url: str) -> Iterator[Client]:
    paho_client = Client()
    yield paho_client
    paho_client.close()


def user_properties() -> Any:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("trace", "t-1"), ("trace", "t-2")]
    props.ContentType = "application/json"
    return props


def test_round_trip_keeps_bytes_qos_retain_and_properties(
    mqtt_url: str,
    client: Client,
    uid: str,
    tmp_path: Path,
    recording: Callable[[object], EventRecorder],
) -> None:
    client.publish(f"{uid}/retained", b"kept by the broker", qos=1, retain=True)
    recorder = recording(f"{mqtt_url}?channel={uid}/%23")
    for kind, payload in PAYLOADS.items():
        client.publish(f"{uid}/{kind}", payload, qos=QOS[kind], properties=user_properties())
    wait_for(lambda: len(recorder.events) == len(PAYLOADS) + 1, "the recorded messages")
    recorder.stop_recording()
    client.publish(f"{uid}/retained", b"", qos=1, retain=True)  # clear it before replay
    path = recorder.save("mqtt.jsonl")

    events = {e.event_name: e for e in EventReplayer(path)}
    assert events[f"{uid}/retained"].metadata == {"qos": 1, "retain": True}
    for kind, data in EXPECTED_DATA.items():
        event = events[f"{uid}/{kind}"]
        assert event.event_data == data
        meta = event.metadata or {}
        assert (meta["qos"], meta["retain"]) == (QOS[kind], False)
        assert meta["properties"]["UserProperty"] == [["trace", "t-1"], ["trace", "t-2"]]

    client.subscribe(f"{uid}/#")
    EventReplayer(path).replay(mqtt_url, math.inf)
    wait_for(lambda: len(client.received) == len(PAYLOADS) + 1, "the replayed messages")
    got = {m.topic: m for m in client.received}
    for kind, payload in PAYLOADS.items():
        msg = got[f"{uid}/{kind}"]
        assert (msg.payload, msg.qos) == (payload, QOS[kind])
        assert msg.properties.UserProperty == [("trace", "t-1"), ("trace", "t-2")]
        assert msg.properties.ContentType == "application/json"
    assert got[f"{uid}/retained"].payload == b"kept by the broker"

    late = Client()  # the replay set the retained message again, as it was recorded
    late.subscribe(f"{uid}/retained")
    wait_for(lambda: late.received, "the retained message")
    assert (late.received[0].payload, late.received[0].retain) == (b"kept by the broker", True)
    late.close()
    client.publish(f"{uid}/retained", b"", qos=1, retain=True)


def test_mqtt_3_1_1_works_too(
    mqtt_url: str, client: Client, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    recorder = recording(f"{mqtt_url}?protocol=3.1.1&channel={uid}/+/x")
    client.publish(f"{uid}/a/x", b'{"v":1}', qos=1)
    client.publish(f"{uid}/a/y", b"not matched")
    wait_for(lambda: recorder.events, "the recorded message")
    recorder.stop_recording()
    assert [(e.event_name, e.event_data, e.metadata) for e in recorder.events] == [
        (f"{uid}/a/x", {"v": 1}, {"qos": 1, "retain": False})
    ]


def test_mqtt_3_1_1_warns_that_the_broker_may_drop_a_burst_unseen(
    mqtt_url: str,
    uid: str,
    recording: Callable[[object], EventRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MQTT 3.1.1 has no way for a subscriber to ask for more in flight (MQTT 5's Receive
    Maximum), and a broker's drops are not signalled: the user is told at the start."""
    caplog.set_level(logging.WARNING, logger="pytest_eventrecorder")
    recording(f"{mqtt_url}?protocol=3.1.1&channel={uid}")
    assert "MQTT 3.1.1" in caplog.text
    assert "max_queued_messages" in caplog.text
    caplog.clear()
    recording(f"{mqtt_url}?channel={uid}")
    assert "MQTT 3.1.1" not in caplog.text


def test_the_subscription_qos_caps_the_recorded_qos(
    mqtt_url: str, client: Client, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    recorder = recording(f"{mqtt_url}?qos=1&channel={uid}/q")
    client.publish(f"{uid}/q", b'{"v":2}', qos=2)
    wait_for(lambda: recorder.events, "the recorded message")
    recorder.stop_recording()
    assert [e.metadata["qos"] for e in recorder.events if e.metadata] == [1]


def test_bad_options_and_refused_connections_are_clear() -> None:
    with pytest.raises(ValueError, match=r"protocol must be 5 or 3\.1\.1"):
        adapter_for("mqtt://localhost?protocol=4")
    with pytest.raises(
        ValueError, match=r"unknown option\(s\) retain; known: channel, client_id, protocol, qos"
    ):
        adapter_for("mqtt://localhost?retain=1")
    with pytest.raises(ValueError, match=r"qos must be 0, 1 or 2, not '3'"):
        adapter_for("mqtt://localhost?qos=3")
    url = f"mqtt://user:pa55word@127.0.0.1:{closed_port()}"
    with pytest.raises(
        BrokerConnectionError, match=r"mqtt://user:\*\*\*@.*cannot connect"
    ) as caught:
        EventRecorder("x").start_recording(url)
    assert "pa55word" not in str(caught.value)


def test_a_broker_going_away_ends_the_recording_and_keeps_the_events(
    mqtt_url: str, client: Client, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    proxy = TcpProxy(1883)
    adapter = adapter_for(f"mqtt://127.0.0.1:{proxy.port}?channel={uid}")
    recorder = recording(adapter)
    client.publish(uid, b"before", qos=1)
    wait_for(lambda: recorder.events, "the first message")
    proxy.cut()
    wait_for(lambda: adapter.failure is not None, "the failure to be noticed")  # type: ignore[attr-defined]
    recorder.stop_recording()
    assert [e.event_data for e in recorder.events] == ["before"]
    assert "connection lost" in str(adapter.failure)  # type: ignore[attr-defined]


def mixed_qos_events(topic: str, count: int) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            timestamp_offset_ms=float(n),
            event_name=topic,
            event_data={"n": n},
            metadata={"qos": (n * 7 // 3) % 3, "retain": False},
        )
        for n in range(count)
    ]


def test_a_mixed_qos_replay_is_pipelined_and_keeps_order(
    mqtt_url: str, client: Client, uid: str
) -> None:
    """QoS 1/2 acknowledgements are awaited together, not one by one (2,000 events took
    30 s), and the broker still forwards every message in the recorded order with its QoS.

    The order is watched by a QoS 0 subscriber: a QoS 2 subscriber's own client hands a
    QoS 2 message over only after one more round trip, so later QoS 0/1 ones overtake it
    there whatever the publisher does (MQTT orders messages per QoS level only)."""
    in_order = Client()
    in_order.subscribe(f"{uid}/mixed", qos=0)
    client.subscribe(f"{uid}/mixed")
    events = mixed_qos_events(f"{uid}/mixed", 2000)
    started = time.monotonic()
    EventReplayer.from_events(events).replay(mqtt_url, math.inf)
    took = time.monotonic() - started
    wait_for(lambda: len(client.received) == len(events), "every replayed message")
    wait_for(lambda: len(in_order.received) == len(events), "every replayed message, QoS 0")
    in_order.close()
    numbers = [json.loads(m.payload)["n"] for m in in_order.received]
    assert numbers == list(range(len(events)))
    qos = {json.loads(m.payload)["n"]: m.qos for m in client.received}
    assert [qos[n] for n in range(len(events))] == [e.metadata["qos"] for e in events]  # type: ignore[index]
    assert took < 10.0, f"2,000 mixed-QoS events took {took:.1f} s"  # ~75x slower before


def test_an_acknowledgement_that_refuses_a_message_is_an_error(mqtt_url: str, uid: str) -> None:
    """Acknowledgements are checked, not only awaited: Mosquitto answers a publish to $SYS
    with "Not authorized" (MQTT 5), which must not pass for a replayed message."""
    events = [*mixed_qos_events(f"{uid}/ok", 3)]
    events.append(
        RecordedEvent(
            timestamp_offset_ms=3.0,
            event_name=f"$SYS/{uid}",
            event_data="x",
            metadata={"qos": 1},
        )
    )
    with pytest.raises(
        BrokerConnectionError, match=rf"refused '\$SYS/{uid}' \(QoS 1\): Not authorized"
    ):
        EventReplayer.from_events(events).replay(mqtt_url, math.inf)


def test_a_connection_lost_before_the_acknowledgements_is_reported_at_once(uid: str) -> None:
    """Messages still unacknowledged when the connection drops fail at once, naming the
    first, instead of each waiting out its own timeout."""
    proxy = TcpProxy(1883)
    adapter: Any = adapter_for(f"mqtt://127.0.0.1:{proxy.port}")
    adapter.open_publisher()
    proxy.holding.set()  # on a quiet machine the broker would acknowledge before the cut
    for event in mixed_qos_events(f"{uid}/lost", 3):
        if event.metadata and event.metadata["qos"] == 1:  # QoS 1 never waits within its window
            adapter.publish(event, event.event_data)
    proxy.cut()
    started = time.monotonic()
    with pytest.raises(BrokerConnectionError, match=r"connection was lost before '.*' \(QoS"):
        adapter.close()
    assert time.monotonic() - started < 5.0  # not one 10 s timeout per message
