"""NATS, for real: subjects and headers recorded while a client publishes, JetStream history,
replay byte for byte to a subscriber; queue-group consumers lose nothing."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import EXPECTED_DATA, PAYLOADS, TcpProxy, closed_port, wait_for

from pytest_eventrecorder import EventRecorder, EventReplayer
from pytest_eventrecorder.adapters import BrokerConnectionError, adapter_for

nats = pytest.importorskip("nats")
pytestmark = pytest.mark.broker

HEADERS = {"Trace-Id": "abc-123", "Content-Type": "application/json"}


async def publish_all(url: str, uid: str) -> list[bytes]:
    """Publish every payload (with headers) while a queue-group worker consumes them."""
    nc = await nats.connect(url)
    worker_got: list[bytes] = []

    async def worker(msg: Any) -> None:
        worker_got.append(msg.data)

    await nc.subscribe(f"{uid}.>", queue="workers", cb=worker)
    for kind, payload in PAYLOADS.items():
        await nc.publish(f"{uid}.{kind}", payload, headers=HEADERS)
    await nc.flush()
    for _ in range(100):
        if len(worker_got) == len(PAYLOADS):
            break
        await asyncio.sleep(0.02)
    await nc.close()
    return worker_got


def test_round_trip_with_headers_is_byte_for_byte(
    nats_url: str, uid: str, tmp_path: Path, recording: Callable[[object], EventRecorder]
) -> None:
    recorder = recording(f"{nats_url}?channel={uid}.>")
    worker_got = asyncio.run(publish_all(nats_url, uid))
    assert worker_got == list(PAYLOADS.values())  # the queue group got every message
    wait_for(lambda: len(recorder.events) == len(PAYLOADS), "the recorded messages")
    recorder.stop_recording()
    path = recorder.save("nats.jsonl")

    events = EventReplayer(path).events
    assert [e.event_name for e in events] == [f"{uid}.{kind}" for kind in PAYLOADS]
    assert [e.event_data for e in events] == list(EXPECTED_DATA.values())
    assert all((e.metadata or {})["headers"] == HEADERS for e in events)

    async def replay_and_listen() -> list[tuple[str, bytes, dict[str, str] | None]]:
        nc = await nats.connect(nats_url)
        sub = await nc.subscribe(f"{uid}.>")
        await nc.flush()
        await asyncio.to_thread(EventReplayer(path).replay, nats_url, math.inf)
        got = []
        for _ in PAYLOADS:
            msg = await sub.next_msg(timeout=5)
            got.append((msg.subject, msg.data, msg.headers))
        await nc.close()
        return got

    assert asyncio.run(replay_and_listen()) == [
        (f"{uid}.{kind}", payload, HEADERS) for kind, payload in PAYLOADS.items()
    ]


def test_jetstream_history_is_recorded_once(
    nats_url: str, uid: str, recording: Callable[[object], EventRecorder]
) -> None:
    async def make_stream() -> None:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await js.add_stream(name=uid, subjects=[f"{uid}.>"])
        await js.publish(f"{uid}.old", b'{"stored": true}', headers={"Nats-Msg-Id": "m1"})
        await nc.close()

    async def publish_live() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().publish(f"{uid}.new", b"live")
        await nc.close()

    async def drop_stream() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().delete_stream(uid)
        await nc.close()

    asyncio.run(make_stream())
    try:
        recorder = recording(f"{nats_url}?jetstream={uid}&channel={uid}.>")
        asyncio.run(publish_live())
        wait_for(lambda: len(recorder.events) == 2, "history and live message")
        recorder.stop_recording()
    finally:
        asyncio.run(drop_stream())
    old, new = recorder.events
    assert (old.event_name, old.event_data) == (f"{uid}.old", {"stored": True})
    assert (old.metadata or {})["jetstream"]["seq"] == 1
    assert (new.event_name, new.event_data) == (f"{uid}.new", "live")
    assert "jetstream" not in (new.metadata or {})


def test_an_unknown_jetstream_stream_is_a_clear_error(nats_url: str, uid: str) -> None:
    with pytest.raises(ValueError, match=f"there is no JetStream stream '{uid}'"):
        EventRecorder("x").start_recording(f"{nats_url}?jetstream={uid}")


def test_connection_refused_is_clear_and_hides_the_token() -> None:
    url = f"nats://t0ken@127.0.0.1:{closed_port()}"
    adapter = adapter_for(url)
    with pytest.raises(
        BrokerConnectionError, match=r"nats://\*\*\*@127\.0\.0\.1:\d+: cannot connect"
    ) as caught:
        EventRecorder("x").start_recording(adapter)
    assert "t0ken" not in str(caught.value)


@pytest.mark.parametrize("loss", ["cut", "drop"])
def test_a_lost_connection_ends_the_recording_and_keeps_the_events(
    nats_url: str, uid: str, recording: Callable[[object], EventRecorder], loss: str
) -> None:
    """``cut``: the broker goes away. ``drop``: the connection drops, but a reconnect would
    succeed; core NATS keeps nothing for an absent subscriber, so the recorder does not
    reconnect over a hole nobody would see."""
    proxy = TcpProxy(4222)
    adapter = adapter_for(f"nats://127.0.0.1:{proxy.port}?channel={uid}")
    recorder = recording(adapter)

    async def publish_one() -> None:
        nc = await nats.connect(nats_url)
        await nc.publish(uid, b"before")
        await nc.close()

    asyncio.run(publish_one())
    wait_for(lambda: recorder.events, "the first message")
    getattr(proxy, loss)()
    wait_for(lambda: adapter.failure is not None, "the failure to be noticed")  # type: ignore[attr-defined]
    recorder.stop_recording()
    assert [e.event_data for e in recorder.events] == ["before"]
    assert "connection closed" in str(adapter.failure)  # type: ignore[attr-defined]


def test_messages_the_client_drops_are_reported_not_silent(
    nats_url: str,
    uid: str,
    recording: Callable[[object], EventRecorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """nats-py drops what a subscription cannot take fast enough (a slow consumer) and only
    tells its error callback: the recording must say it is no longer whole."""
    adapter: Any = adapter_for(f"{nats_url}?channel={uid}")
    adapter.pending_limit = 5  # nats-py's default is 524,288: this one fills in a burst
    taken = adapter._on_message

    async def slow(msg: Any) -> None:  # a stalled receiver, so the client's queue fills
        await asyncio.sleep(0.01)
        await taken(msg)

    adapter._on_message = slow
    recorder = recording(adapter)

    async def burst() -> None:
        nc = await nats.connect(nats_url)
        for n in range(500):
            await nc.publish(uid, str(n).encode())
        await nc.flush()
        await nc.close()

    asyncio.run(burst())
    wait_for(lambda: adapter.failure is not None, "the dropped messages to be reported")
    wait_for(lambda: len(recorder.events) >= 5, "the messages the client kept")
    recorder.stop_recording()
    assert f"dropped messages on {uid!r}" in str(adapter.failure)
    assert "slow consumer" in caplog.text
    assert 0 < len(recorder.events) < 500
