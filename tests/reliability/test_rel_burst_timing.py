"""A burst keeps its own timing: broker messages are stamped when they arrive, not when
the (slower) writer gets to them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rel_support import root_conftest

from pytest_eventrecorder import EventRecorder, RecordedEvent
from pytest_eventrecorder.adapters import adapter_for

pytestmark = pytest.mark.broker

require_service: Callable[..., None] = root_conftest().require_service
BURST = 3_000


def slow_writer(event: RecordedEvent) -> bool:
    time.sleep(0.0003)  # a slow disk: writing the burst takes about a second or more
    return True


def test_a_redis_burst_is_stamped_as_it_arrived_not_as_it_was_written(tmp_path: Path) -> None:
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    channel = f"burst-{uuid.uuid4().hex}"
    recorder = EventRecorder("burst", tmp_path, before_record=slow_writer)
    adapter = adapter_for(f"redis://127.0.0.1:6379/0?channel={channel}")
    recorder.start_recording(adapter)
    client = redis.Redis()
    try:
        time.sleep(0.2)  # the subscription is in place
        start = time.perf_counter()
        pipe = client.pipeline(transaction=False)
        for i in range(BURST):
            pipe.publish(channel, f'{{"n": {i}}}')
        pipe.execute()
        sent = time.perf_counter() - start
        deadline = time.monotonic() + 60
        while len(recorder.events) < BURST and time.monotonic() < deadline:
            time.sleep(0.05)
        written = time.perf_counter() - start
    finally:
        recorder.stop_recording()
        adapter.close()
        client.close()
    events = recorder.events
    assert [e.event_data["n"] for e in events] == list(range(BURST))
    span_s = (events[-1].timestamp_offset_ms - events[0].timestamp_offset_ms) / 1000
    offsets = [e.timestamp_offset_ms for e in events]
    assert offsets == sorted(offsets)
    assert written > 0.8  # the writer really was slow
    assert span_s < max(0.5, 3 * sent), (span_s, sent, written)
