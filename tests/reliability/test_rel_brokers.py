"""A broker cut off mid-recording while messages are flowing: the recorder reports it, keeps
(and saves) every message it received, in order, and never raises into the caller.

Each broker is reached through a TCP proxy that the test cuts; another client keeps
publishing straight to the broker meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rel_support import TESTS, load_by_path, root_conftest

from pytest_eventrecorder import EventRecorder, read_cassette
from pytest_eventrecorder.adapters import adapter_for

pytestmark = pytest.mark.broker

helpers = load_by_path(
    "eventrecorder_reliability_adapter_helpers", TESTS / "adapters/adapter_helpers.py"
)
TcpProxy = helpers.TcpProxy
wait_for: Callable[..., None] = helpers.wait_for
require_service: Callable[..., None] = root_conftest().require_service

Publish = Callable[[str, threading.Event], None]
"""Publish ``{"n": 0}``, ``{"n": 1}``... on a channel until the event is set."""


def _redis(channel: str, stop: threading.Event) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis(port=6379)
    n = 0
    while not stop.is_set():
        client.publish(channel, json.dumps({"n": n}))
        n += 1
        time.sleep(0.001)
    client.close()


def _nats(channel: str, stop: threading.Event) -> None:
    nats = pytest.importorskip("nats")

    async def run() -> None:
        client = await nats.connect("nats://127.0.0.1:4222")
        n = 0
        while not stop.is_set():
            await client.publish(channel, json.dumps({"n": n}).encode())
            await client.flush()
            n += 1
            await asyncio.sleep(0.001)
        await client.close()

    asyncio.run(run())


def _mqtt(channel: str, stop: threading.Event) -> None:
    mqtt = pytest.importorskip("paho.mqtt.client")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex[:12])
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    n = 0
    while not stop.is_set():
        client.publish(channel, json.dumps({"n": n}), qos=1).wait_for_publish(5)
        n += 1
        time.sleep(0.001)
    client.disconnect()
    client.loop_stop()


def _amqp(channel: str, stop: threading.Event) -> None:
    pika = pytest.importorskip("pika")
    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/"))
    publisher = connection.channel()
    n = 0
    while not stop.is_set():
        publisher.basic_publish("amq.topic", channel, json.dumps({"n": n}).encode())
        n += 1
        connection.sleep(0.001)
    connection.close()


BROKERS: dict[str, tuple[str, int, str, Publish]] = {
    "redis": ("Redis", 6379, "redis://127.0.0.1:{port}/0?channel={uid}", _redis),
    "nats": ("NATS", 4222, "nats://127.0.0.1:{port}?channel={uid}", _nats),
    "mqtt": ("Mosquitto (MQTT)", 1883, "mqtt://127.0.0.1:{port}?channel={uid}", _mqtt),
    "amqp": ("RabbitMQ (AMQP)", 5672, "amqp://guest:guest@127.0.0.1:{port}/?channel={uid}", _amqp),
}


class Publisher:
    def __init__(self, publish: Publish, channel: str) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(publish, channel), daemon=True)
        self._thread.start()

    def _run(self, publish: Publish, channel: str) -> None:
        try:
            publish(channel, self.stop)
        except BaseException as exc:
            self.error = exc

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=30)
        assert self.error is None, self.error


@pytest.fixture
def publishers() -> Iterator[Callable[[Publish, str], Publisher]]:
    started: list[Publisher] = []

    def start(publish: Publish, channel: str) -> Publisher:
        started.append(Publisher(publish, channel))
        return started[-1]

    yield start
    for publisher in started:
        publisher.stop.set()


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_a_broker_cut_off_mid_recording_is_reported_and_nothing_received_is_lost(
    broker: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    publishers: Callable[[Publish, str], Publisher],
) -> None:
    name, port, url, publish = BROKERS[broker]
    require_service(name, port)
    uid = f"rel{uuid.uuid4().hex[:10]}"
    proxy = TcpProxy(port)
    adapter: Any = adapter_for(url.format(port=proxy.port, uid=uid))
    recorder = EventRecorder("cut", tmp_path, stream_to=tmp_path / "live.jsonl")
    caplog.set_level(logging.ERROR, logger="pytest_eventrecorder")
    recorder.start_recording(adapter)  # returns once subscribed
    publisher = publishers(publish, uid)

    wait_for(lambda: len(recorder.events) >= 30, "30 messages through the proxy")
    proxy.cut()  # messages are still being published straight to the broker
    wait_for(lambda: adapter.failure is not None, "the cut to be noticed")
    time.sleep(0.1)
    publisher.close()
    kept = recorder.stop_recording()

    assert f"127.0.0.1:{proxy.port}" in str(adapter.failure)
    assert "Recording stopped early" in caplog.text
    numbers = [e.event_data["n"] for e in kept]
    assert numbers == list(range(len(numbers))), "a received message was lost or repeated"
    assert len(numbers) >= 30
    assert {e.event_name for e in kept} == {uid}
    assert read_cassette(tmp_path / "live.jsonl").events == tuple(kept)
    assert read_cassette(recorder.save("cut.json")).events == tuple(kept)


def test_a_recording_after_the_broker_came_back_works(
    tmp_path: Path, publishers: Callable[[Publish, str], Publisher]
) -> None:
    """A cut is not sticky: a new recording through a fresh route receives again."""
    require_service("Redis", 6379)
    uid = f"rel{uuid.uuid4().hex[:10]}"
    first = TcpProxy(6379)
    adapter: Any = adapter_for(f"redis://127.0.0.1:{first.port}/0?channel={uid}")
    recorder = EventRecorder("before", tmp_path)
    recorder.start_recording(adapter)
    publisher = publishers(_redis, uid)
    wait_for(lambda: recorder.events, "a message")
    first.cut()
    wait_for(lambda: adapter.failure is not None, "the cut to be noticed")
    recorder.stop_recording()
    saved = recorder.save("before.json")

    second = TcpProxy(6379)
    again = EventRecorder("after", tmp_path)
    again.start_recording(f"redis://127.0.0.1:{second.port}/0?channel={uid}")
    wait_for(lambda: len(again.events) >= 5, "messages after the broker came back")
    again.stop_recording()
    publisher.close()
    second.cut()
    assert read_cassette(saved).events == tuple(recorder.events)
    numbers = [e.event_data["n"] for e in again.events]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
