"""A local burst, recorded whole: the real ``eventrecorder record`` command in a process,
fed by the real ``mosquitto_pub`` (10,000 messages in a fraction of a second) at QoS 0, 1
and 2 on a Mosquitto with its default limits (1,000 queued, 20 in flight per client)."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rel_support import root_conftest

from pytest_eventrecorder import EventRecorder, RecordedEvent, read_cassette
from pytest_eventrecorder.adapters import adapter_for
from pytest_eventrecorder.adapters.brokers import base as broker_base

pytestmark = pytest.mark.broker

require_service: Callable[..., None] = root_conftest().require_service

BURST = 10_000
READY = "Ctrl-C to stop"


def _require_mosquitto_pub() -> str:
    found = shutil.which("mosquitto_pub")
    if found is None:
        message = "mosquitto_pub is not installed (apt-get install mosquitto-clients)"
        if root_conftest().IN_CI:
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return found


def _start_recording(url: str, channel: str, out: Path) -> subprocess.Popen[str]:
    """``eventrecorder record`` in its own process, returned once it says it is subscribed."""
    command = ["record", "--from", url, "--channel", channel, "-o", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_eventrecorder", *command],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the command prints this once the subscription is acked
        if READY in line:
            return process
    process.wait(10)
    raise AssertionError(f"record never got ready (exit {process.returncode})")


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as file:
            return sum(1 for _ in file)
    except FileNotFoundError:
        return 0


def _wait_until_quiet(path: Path, wanted: int, timeout: float = 60.0) -> None:
    """Until the file holds ``wanted`` lines, or has not grown for 3 s (the rest was lost)."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = _lines(path)
        if count >= wanted:
            return
        if count != seen:
            seen, since = count, time.monotonic()
        elif time.monotonic() - since > 3.0:
            return
        time.sleep(0.1)


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_a_mosquitto_pub_burst_is_recorded_whole(qos: int, tmp_path: Path) -> None:
    require_service("Mosquitto (MQTT)", 1883)
    publisher = _require_mosquitto_pub()
    topic = f"burst{uuid.uuid4().hex[:10]}/seq"
    out = tmp_path / "burst.jsonl"
    process = _start_recording("mqtt://127.0.0.1:1883", topic.split("/")[0] + "/#", out)
    try:
        numbers = "\n".join(str(n) for n in range(BURST)) + "\n"
        subprocess.run(
            [publisher, "-h", "127.0.0.1", "-l", "-q", str(qos), "-t", topic],
            input=numbers,
            text=True,
            check=True,
            timeout=60,
        )
        partial = out.with_name(out.name + ".partial.jsonl")
        _wait_until_quiet(partial, BURST + 1)  # + the header line
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    events = read_cassette(out).events
    received = [e.event_data for e in events]
    assert len(received) == BURST, f"{BURST - len(received)} of {BURST} messages lost"
    assert received == list(range(BURST)), "messages were reordered or changed"
    assert {e.metadata["qos"] for e in events if e.metadata} == {qos}


def test_a_slow_disk_makes_receiving_wait_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages waiting to be written are bounded: past the bound the receiving thread
    waits (Redis buffers meanwhile), a warning says so, and every message is kept in order."""
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    monkeypatch.setattr(broker_base, "BACKLOG_LIMIT", 50)
    caplog.set_level(logging.WARNING, logger="pytest_eventrecorder")
    channel = f"slow{uuid.uuid4().hex[:10]}"

    def slow_disk(event: RecordedEvent) -> bool:
        time.sleep(0.0005)
        return True

    recorder = EventRecorder(
        "slow", tmp_path, stream_to=tmp_path / "slow.jsonl", before_record=slow_disk
    )
    recorder.start_recording(f"redis://127.0.0.1:6379/0?channel={channel}")
    client = redis.Redis(port=6379)
    pipe = client.pipeline(transaction=False)
    for n in range(2000):
        pipe.publish(channel, str(n))
    pipe.execute()
    client.close()
    _wait_until_count(recorder, 2000)
    recorder.stop_recording()
    assert [e.event_data for e in recorder.events] == list(range(2000))
    assert caplog.text.count("50 messages wait to be written") == 1  # said once, not each time


def _wait_until_count(recorder: EventRecorder, wanted: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while recorder.event_count < wanted and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_sink_raising_system_exit_neither_ends_the_writer_nor_hangs_the_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer thread is all that empties the backlog: if it died, receiving would block
    on a full backlog and the stop would wait forever."""
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    monkeypatch.setattr(broker_base, "BACKLOG_LIMIT", 5)
    channel = f"exit{uuid.uuid4().hex[:10]}"

    def exits_once(event: RecordedEvent) -> bool:
        if event.event_data == 0:
            raise SystemExit("a hook calling sys.exit()")
        return True

    recorder = EventRecorder("exit", tmp_path, before_record=exits_once)
    recorder.start_recording(f"redis://127.0.0.1:6379/0?channel={channel}")
    client = redis.Redis(port=6379)
    for n in range(50):
        client.publish(channel, str(n))
    client.close()
    _wait_until_count(recorder, 49, timeout=20)
    stopped = threading.Thread(target=recorder.stop_recording, daemon=True)
    stopped.start()
    stopped.join(30)
    assert not stopped.is_alive(), "stop_recording() hung"
    assert [e.event_data for e in recorder.events] == list(range(1, 50))


def test_every_message_received_before_the_stop_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop while the backlog is full and the receiving thread waits for room: that
    thread's message lands after the writer's end marker, and is written all the same."""
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    monkeypatch.setattr(broker_base, "BACKLOG_LIMIT", 5)
    monkeypatch.setattr(broker_base, "STOP_TIMEOUT_S", 0.001)  # the stop does not wait for it
    channel = f"stop{uuid.uuid4().hex[:10]}"
    adapter: Any = adapter_for(f"redis://127.0.0.1:6379/0?channel={channel}")
    received: list[object] = []
    enqueue = adapter._enqueue

    def counted(item: Any) -> None:
        if not adapter._stopping.is_set():  # taken off the wire before the stop
            received.append(item[1])
        enqueue(item)

    adapter._enqueue = counted
    recorder = EventRecorder("stop", tmp_path, before_record=lambda e: time.sleep(0.002) is None)
    recorder.start_recording(adapter)
    client = redis.Redis(port=6379)
    pipe = client.pipeline(transaction=False)
    for n in range(500):
        pipe.publish(channel, str(n))
    pipe.execute()
    client.close()
    _wait_until_count(recorder, 20)
    recorder.stop_recording()
    assert len(recorder.events) == len(received) > 20
    assert [e.event_data for e in recorder.events] == list(range(len(received)))
