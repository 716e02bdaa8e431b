"""Fixtures for the adapter tests: broker URLs (skipped, or failed under CI=true, when the
broker is down), unique channel names, and a recorder that is always stopped."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from adapter_helpers import require_service

from pytest_eventrecorder import EventRecorder


@pytest.fixture
def uid() -> str:
    """A prefix no other test run uses, for channels, topics, queues and streams."""
    return f"er{uuid.uuid4().hex[:10]}"


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", 6379)
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def nats_url() -> str:
    require_service("NATS", 4222)
    return "nats://127.0.0.1:4222"


@pytest.fixture
def mqtt_url() -> str:
    require_service("Mosquitto (MQTT)", 1883)
    return "mqtt://127.0.0.1:1883"


@pytest.fixture
def amqp_url() -> str:
    require_service("RabbitMQ (AMQP)", 5672)
    return "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[Callable[[object], EventRecorder]]:
    """``recording(bus)``: a recorder attached to ``bus``, stopped at the end of the test."""
    recorders: list[EventRecorder] = []

    def start(bus: object) -> EventRecorder:
        recorder = EventRecorder("adapter-test", tmp_path)
        recorder.start_recording(bus)
        recorders.append(recorder)
        return recorder

    yield start
    for recorder in recorders:
        recorder.stop_recording()
