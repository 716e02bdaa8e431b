"""Recording keeps up with a broker: a burst of thousands of mixed payloads (JSON in two
layouts, text, binary) published as fast as each broker takes them is recorded whole, in
order and byte for byte, and reaches the stream file in batches (one write per batch, not
per message: the per-message flush and wake-up were a third of the recorder's time).

The sustained rate against a plain client is measured by benchmarks/bench_brokers.py."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rel_support import root_conftest

from pytest_eventrecorder import EventRecorder, read_cassette
from pytest_eventrecorder.adapters.payload import payload_bytes
from pytest_eventrecorder.formats import EventStream
from pytest_eventrecorder.serialize import restore

pytestmark = pytest.mark.broker

require_service: Callable[..., None] = root_conftest().require_service
BURST = 5_000


def _payload(n: int) -> bytes:
    """Four kinds in turn, so every path of describing a payload runs at rate."""
    kind = n % 4
    if kind == 0:
        return f'{{"n":{n},"name":"été","tags":[1,2.5,null]}}'.encode()
    if kind == 1:
        return f'{{"n": {n}, "ok": true}}'.encode()  # Python's json.dumps layout
    if kind == 2:
        return f"plain text {n}".encode()
    return bytes([n % 256, 0xFF, n // 256, 0xFE])  # not UTF-8


def _redis(channel: str, payloads: list[bytes]) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis(port=6379)
    pipe = client.pipeline(transaction=False)
    for n, payload in enumerate(payloads):
        pipe.publish(channel, payload)
        if n % 500 == 499:
            pipe.execute()
    pipe.execute()
    client.close()


def _nats(channel: str, payloads: list[bytes]) -> None:
    nats = pytest.importorskip("nats")

    async def run() -> None:
        client = await nats.connect("nats://127.0.0.1:4222")
        for payload in payloads:
            await client.publish(channel, payload)
        await client.flush()
        await client.close()

    asyncio.run(run())


def _mqtt(channel: str, payloads: list[bytes]) -> None:
    mqtt = pytest.importorskip("paho.mqtt.client")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex[:12])
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    sent = [client.publish(channel, payload, qos=1) for payload in payloads]
    for info in sent:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def _amqp(channel: str, payloads: list[bytes]) -> None:
    pika = pytest.importorskip("pika")
    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/"))
    publisher = connection.channel()
    for payload in payloads:
        publisher.basic_publish("amq.topic", channel, payload)
    connection.close()


BROKERS: dict[str, tuple[str, int, str, Callable[[str, list[bytes]], None]]] = {
    "redis": ("Redis", 6379, "redis://127.0.0.1:6379/0?channel={uid}", _redis),
    "nats": ("NATS", 4222, "nats://127.0.0.1:4222?channel={uid}", _nats),
    "mqtt": ("Mosquitto (MQTT)", 1883, "mqtt://127.0.0.1:1883?channel={uid}", _mqtt),
    "amqp": ("RabbitMQ (AMQP)", 5672, "amqp://guest:guest@127.0.0.1:5672/?channel={uid}", _amqp),
}


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_a_burst_is_recorded_whole_byte_for_byte_and_written_in_batches(
    broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, port, url, publish = BROKERS[broker]
    require_service(name, port)
    flushes = _count_flushes(monkeypatch)
    uid = f"tp{uuid.uuid4().hex[:10]}"
    payloads = [_payload(n) for n in range(BURST)]
    live = tmp_path / "live.jsonl"
    recorder = EventRecorder(broker, tmp_path, stream_to=live, keep_events=False)
    recorder.start_recording(url.format(uid=uid))
    try:
        publish(uid, payloads)
        _wait_until(lambda: recorder.event_count >= BURST)
    finally:
        recorder.halt()
    events = read_cassette(live).events
    assert len(events) == BURST, f"{BURST - len(events)} of {BURST} messages lost"
    replayed = [payload_bytes(e, restore(e.event_data)) for e in events]
    assert replayed == payloads, "a payload was changed or reordered"
    assert 0 < flushes[0] <= BURST // 10, f"{flushes[0]} writes for {BURST} messages"


def _count_flushes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]
    flush = getattr(EventStream, "flush", None)

    def counted(stream: EventStream) -> None:
        count[0] += 1
        if flush is not None:
            flush(stream)

    monkeypatch.setattr(EventStream, "flush", counted, raising=False)
    return count


def _wait_until(done: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


KILL_BOUND_S = 0.25
"""What a kill -9 may lose: messages received in the writer's last linger (2 ms) plus the
time to write them; generous, for a loaded machine."""


def test_a_kill_9_of_record_loses_only_the_last_moments(tmp_path: Path) -> None:
    """Messages are written in batches a few milliseconds apart: a kill -9 of
    ``eventrecorder record`` keeps every message published more than a moment before it,
    in order, and leaves only whole lines."""
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    uid = f"kill{uuid.uuid4().hex[:10]}"
    out = tmp_path / "killed.jsonl"
    command = ["record", "--from", "redis://127.0.0.1:6379/0", "--channel", uid, "-o", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_eventrecorder", *command], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "Ctrl-C to stop" in line:
                break
        client = redis.Redis(port=6379)
        sent_at: list[float] = []
        while len(sent_at) < 3_000:
            client.publish(uid, str(len(sent_at)))
            time.sleep(0.0005)  # a steady stream: about 1.5 s before the kill
            sent_at.append(time.monotonic())
            if len(sent_at) == 2_000:
                process.kill()  # SIGKILL, mid-stream
                killed_at = time.monotonic()
        client.close()
    finally:
        process.kill()
        process.wait(10)
    kept = [e.event_data for e in read_cassette(out.with_name(out.name + ".partial.jsonl")).events]
    assert kept == list(range(len(kept))), "a message was lost inside what was kept"
    settled = sum(1 for at in sent_at if at < killed_at - KILL_BOUND_S)
    assert settled > 1_000, "the test published too fast to tell"
    assert len(kept) >= settled, f"{settled - len(kept)} messages sent well before the kill lost"


def test_a_batch_whose_last_message_a_hook_drops_still_reaches_the_file(tmp_path: Path) -> None:
    """The batch's last message is the one that flushes it: dropped by ``before_record``,
    it must still send the rest of the batch to the file, not leave it in the buffer."""
    require_service("Redis", 6379)
    redis = pytest.importorskip("redis")
    uid = f"drop{uuid.uuid4().hex[:10]}"
    live = tmp_path / "live.jsonl"
    recorder = EventRecorder(
        "drop",
        tmp_path,
        stream_to=live,
        keep_events=False,
        before_record=lambda event: event.event_data != "drop",
    )
    recorder.start_recording(f"redis://127.0.0.1:6379/0?channel={uid}")
    try:
        client = redis.Redis(port=6379)
        pipe = client.pipeline(transaction=False)
        for n in range(200):
            pipe.publish(uid, str(n))
        pipe.publish(uid, "drop")
        pipe.execute()
        client.close()
        _wait_until(lambda: recorder.event_count >= 200)
        time.sleep(0.1)  # the batch is over: nothing else will flush it
        on_disk = live.read_bytes().count(b"\n") - 1  # minus the header line
    finally:
        recorder.halt()
    assert on_disk == 200, f"{200 - on_disk} kept messages were still held back"
