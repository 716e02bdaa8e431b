"""MQTT (paho-mqtt 2.x): a subscription to ``#`` at QoS 2 with a clean session.

QoS 2 records each message with the QoS it was published with; ``?qos=1`` (or ``0``)
records them at most at that QoS.

Bursts: with MQTT 5 the recorder asks for the largest Receive Maximum, so the broker keeps
a burst in flight to it instead of queueing it (Mosquitto queues 1,000 per client, then
drops the rest unannounced); messages are taken off the socket at once and written on
another thread. MQTT 3.1.1 has no such flow control and no drop signal: a burst larger than
the broker's queue can be lost unseen, which the recorder warns about when it starts.

Replay publishes without waiting for each acknowledgement (up to the in-flight window)
and checks every one: a publish that must wait (a full window; a QoS 0/1 message after a
QoS 2 one, which brokers forward only once it completes) waits, and :meth:`flush` /
``close()`` wait for the rest and raise naming a message the broker did not acknowledge
or refused.

Every subscriber gets its own copy, so nothing is taken from other clients (shared
``$share/...`` subscriptions are never used). With MQTT 5 (the default; ``?protocol=3.1.1``
for older brokers) the subscription asks for *retain as published*, so each message's
retain flag is recorded as its publisher set it; the QoS it was published with, the
retain flag and the MQTT 5 properties (user properties, content type...) go in the
metadata, and replay publishes with the same ones. ``#`` does not match ``$SYS/...``.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

from ...cassette import JSONValue, RecordedEvent
from ..payload import payload_bytes
from .base import CONNECT_TIMEOUT_S, BrokerAdapter, BrokerConnectionError, log

_PROTOCOLS = {"5": "MQTTv5", "3.1.1": "MQTTv311", "311": "MQTTv311"}
_TEXT_PROPERTIES = (
    "ContentType",
    "ResponseTopic",
    "PayloadFormatIndicator",
    "MessageExpiryInterval",
)
_monotonic = time.monotonic
"""Bound at import: a replay under clock='recorded' stands time.monotonic still, and an
acknowledgement that never comes must still time out."""
_PUBLISH_TIMEOUT_S = 10.0
_ACK_POLL_S = 0.05
"""How often a wait for an acknowledgement looks whether the connection is still up."""
RECEIVE_MAXIMUM = 65535
"""The most MQTT 5 allows."""


class MqttAdapter(BrokerAdapter):
    name = "mqtt"
    default_ports: ClassVar[Mapping[str, int]] = {"mqtt": 1883, "mqtts": 8883}
    options = frozenset({"channel", "protocol", "client_id", "qos"})
    package = "paho-mqtt"
    extra = "mqtt"
    match_all = "#"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        protocol = self.url.value("protocol", "5")
        if protocol not in _PROTOCOLS:
            raise ValueError(f"{self.url.redacted}: protocol must be 5 or 3.1.1, not {protocol!r}")
        self.protocol = getattr(self.client.client, _PROTOCOLS[protocol])
        self.v5 = protocol == "5"
        qos = self.url.value("qos", "2")
        if qos not in ("0", "1", "2"):
            raise ValueError(f"{self.url.redacted}: qos must be 0, 1 or 2, not {qos!r}")
        self.qos = int(qos)
        self._recorder: Any = None
        self._unacked: deque[tuple[str, int, Any]] = deque()
        """(topic, QoS, paho's MessageInfo) of each QoS 1/2 message not yet acknowledged."""
        self._refusals: dict[int, str] = {}
        self._window = 1
        """QoS 1/2 messages to have in flight at once (set on connecting)."""

    def _import_client(self) -> Any:
        try:
            import paho.mqtt
            import paho.mqtt.client
            import paho.mqtt.enums
            import paho.mqtt.packettypes
            import paho.mqtt.properties
            import paho.mqtt.subscribeoptions
        except ImportError:
            raise self._missing() from None
        if not hasattr(paho.mqtt.enums, "CallbackAPIVersion"):
            raise self._missing()  # paho-mqtt 1.x: the extra pins 2.x
        return paho.mqtt

    # ------------------------------------------------------------------ connecting

    def _connect(self, role: str) -> Any:
        """A connected client with its network loop running, or a clear error."""
        mqtt = self.client
        client_id = self.url.value("client_id", f"eventrecorder-{role}-{uuid.uuid4().hex[:12]}")
        client = mqtt.client.Client(
            mqtt.enums.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=self.protocol,
            reconnect_on_failure=False,
            **({} if self.v5 else {"clean_session": True}),
        )
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.scheme == "mqtts":
            client.tls_set()
        connected = threading.Event()
        outcome: list[Any] = []

        def on_connect(_c: Any, _u: Any, _flags: Any, reason: Any, props: Any) -> None:
            outcome.append(reason)
            # What the broker takes in flight from us (MQTT 5), if less than paho sends.
            limit = getattr(props, "ReceiveMaximum", None) or client.max_inflight_messages
            self._window = max(1, min(client.max_inflight_messages, limit))
            connected.set()

        client.on_connect = on_connect
        try:
            client.connect(self.url.host, self.url.port, keepalive=30, **self._clean_start())
        except (OSError, ValueError) as exc:
            raise self.error(f"cannot connect: {exc}") from None
        # paho leaves Nagle's algorithm on: a small PUBREL or PUBACK then waits for the
        # peer's delayed ACK, ~15 ms a message when QoS levels mix.
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.loop_start()
        if not connected.wait(CONNECT_TIMEOUT_S) or outcome[0].is_failure:
            _stop(client)
            raise self._refused(outcome[0] if outcome else None)
        return client

    def _clean_start(self) -> dict[str, Any]:
        if not self.v5:
            return {}
        # MQTT 5 flow control: the broker may have this many QoS 1/2 messages in flight to
        # us. Left unset, Mosquitto allows 20 and queues 1,000 more, then drops the rest
        # without telling anyone: a local burst outruns any Python reader that way.
        props = self.client.properties.Properties(self.client.packettypes.PacketTypes.CONNECT)
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        return {"clean_start": True, "properties": props}

    def _refused(self, reason: Any) -> BrokerConnectionError:
        if reason is None:
            return self.error(f"no CONNACK within {CONNECT_TIMEOUT_S:g} s")
        text = str(reason)
        if reason.value in (4, 5, 0x86, 0x87, 0x8C):  # bad user name or password / not authorized
            return self.error(f"authentication failed (check user and password): {text}")
        return self.error(f"connection refused: {text}")

    # ------------------------------------------------------------------ recording

    def _start_recording(self) -> None:
        client = self._recorder = self._connect("recorder")
        subscribed = threading.Event()
        granted: list[Any] = []

        def on_subscribe(_c: Any, _u: Any, _mid: int, reasons: list[Any], _props: Any) -> None:
            granted.extend(reasons)
            subscribed.set()

        client.on_subscribe = on_subscribe
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.subscribe(self._subscriptions())
        if not subscribed.wait(CONNECT_TIMEOUT_S):
            raise self.error(f"no SUBACK within {CONNECT_TIMEOUT_S:g} s")
        refused = [str(r) for r in granted if r.is_failure]
        if refused:
            raise self.error(f"subscription refused: {', '.join(refused)}")
        if not self.v5 and self.qos:
            log.warning(
                "Recording %s over MQTT 3.1.1: a burst beyond the broker's per-client queue "
                "(Mosquitto: max_queued_messages, 1000) is dropped by the broker, and MQTT "
                "3.1.1 does not tell the subscriber. MQTT 5 (the default) avoids this",
                self.url.redacted,
            )

    def _subscriptions(self) -> list[tuple[str, Any]]:
        if not self.v5:
            return [(pattern, self.qos) for pattern in self.channels]
        options = self.client.subscribeoptions.SubscribeOptions(
            qos=self.qos, retainAsPublished=True
        )
        return [(pattern, options) for pattern in self.channels]

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        metadata: dict[str, JSONValue] = {"qos": msg.qos, "retain": bool(msg.retain)}
        properties = _properties_to_json(getattr(msg, "properties", None))
        if properties:
            metadata["properties"] = properties
        self._deliver(msg.topic, bytes(msg.payload), metadata)

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure or reason.value != 0:
            self._fail(f"connection lost: {reason}")

    def _stop_recording(self) -> None:
        client, self._recorder = self._recorder, None
        if client is not None:
            _stop(client)

    # ------------------------------------------------------------------ replay

    def _connect_publisher(self) -> Any:
        client = self._connect("publisher")
        client.on_publish = self._on_publish
        return client

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        """Send one message without waiting for its acknowledgement (a QoS 1/2 round trip
        each made replays crawl); :meth:`flush` or :meth:`close` checks them all."""
        client = self._publishing(self._connect_publisher)
        meta = event.metadata or {}
        qos = meta.get("qos", 0)
        qos = qos if qos in (0, 1, 2) else 0
        self._make_room(qos)
        try:
            info = client.publish(
                event.event_name,
                payload_bytes(event, payload),
                qos=qos,
                retain=bool(meta.get("retain", False)),
                properties=self._properties(meta.get("properties")),
            )
        except ValueError as exc:  # a topic paho refuses (wildcards, too long...)
            raise self.error(f"cannot publish to {event.event_name!r}: {exc}") from None
        if info.rc != self.client.enums.MQTTErrorCode.MQTT_ERR_SUCCESS:
            problem = self.client.client.error_string(info.rc)
            raise self.error(f"cannot publish to {event.event_name!r}: {problem}")
        if qos:
            self._unacked.append((event.event_name, qos, info))

    def _make_room(self, qos: int) -> None:
        """Wait for what must be acknowledged before a message with ``qos`` goes out in
        order: the oldest while the in-flight window is full (paho would hold the next
        QoS 1/2 message back but send a QoS 0 one at once), and every QoS 2 message before
        a QoS 0/1 one (a broker may forward a QoS 2 message only once it completes)."""
        unacked = self._unacked
        deadline = _monotonic() + _PUBLISH_TIMEOUT_S
        while unacked and unacked[0][2].is_published():
            self._acknowledged(*unacked.popleft(), deadline)
        while len(unacked) >= self._window or (qos < 2 and any(q == 2 for _, q, _ in unacked)):
            self._acknowledged(*unacked.popleft(), deadline)

    def flush(self) -> None:
        """Wait until the broker acknowledged every QoS 1/2 message published; raise a
        :class:`BrokerConnectionError` naming the first one it did not (or refused)."""
        deadline = _monotonic() + _PUBLISH_TIMEOUT_S  # for them all, not each
        while self._unacked:
            self._acknowledged(*self._unacked.popleft(), deadline)

    def _acknowledged(self, topic: str, qos: int, info: Any, deadline: float) -> None:
        if not info.is_published():
            self._ack_at_once()
        while not info.is_published():
            if self._publisher is None or not self._publisher.is_connected():
                raise self.error(
                    f"the connection was lost before {topic!r} (QoS {qos}) was acknowledged"
                )
            if _monotonic() >= deadline:
                raise self.error(
                    f"{topic!r} (QoS {qos}) was not acknowledged within {_PUBLISH_TIMEOUT_S:g} s"
                )
            try:
                info.wait_for_publish(_ACK_POLL_S)  # returns at once when acknowledged
            except (RuntimeError, ValueError) as exc:
                raise self.error(f"cannot publish to {topic!r}: {exc}") from None
        refused = self._refusals.pop(info.mid, None)
        if refused is not None:
            raise self.error(f"the broker refused {topic!r} (QoS {qos}): {refused}")

    def _ack_at_once(self) -> None:
        """About to wait for the broker: make the kernel acknowledge what it received now.
        A broker with Nagle's algorithm on (Mosquitto's default) holds a small PUBACK or
        PUBREC back until its previous one is acknowledged, and a delayed ACK made every
        such wait ~10 ms (Linux only; elsewhere the wait is just longer)."""
        sock = None if self._publisher is None else self._publisher.socket()
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        """Runs before paho marks the message published: a refusal is known by then."""
        if getattr(reason, "is_failure", False):
            self._refusals[mid] = str(reason)

    def _properties(self, recorded: object) -> Any:
        if not self.v5 or not isinstance(recorded, dict):
            return None
        mqtt = self.client
        props = mqtt.properties.Properties(mqtt.packettypes.PacketTypes.PUBLISH)
        for name in _TEXT_PROPERTIES:
            if name in recorded:
                setattr(props, name, recorded[name])
        if "CorrelationData" in recorded:
            props.CorrelationData = base64.b64decode(recorded["CorrelationData"])
        if "UserProperty" in recorded:
            props.UserProperty = [tuple(pair) for pair in recorded["UserProperty"]]
        return props

    def _close_publisher(self) -> None:
        client = self._publisher
        if client is None:
            return
        try:
            self.flush()
        finally:
            self._publisher = None
            self._unacked.clear()
            self._refusals.clear()
            _stop(client)


def _properties_to_json(props: Any) -> dict[str, JSONValue]:
    """The MQTT 5 properties worth replaying, as JSON (user properties as [name, value])."""
    if props is None:
        return {}
    found: dict[str, JSONValue] = {
        n: getattr(props, n) for n in _TEXT_PROPERTIES if hasattr(props, n)
    }
    if hasattr(props, "CorrelationData"):
        found["CorrelationData"] = base64.b64encode(props.CorrelationData).decode("ascii")
    if hasattr(props, "UserProperty"):
        found["UserProperty"] = [[k, v] for k, v in props.UserProperty]
    return found


def _stop(client: Any) -> None:
    client.disconnect()
    client.loop_stop()
