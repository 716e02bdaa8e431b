"""Who can drive the dashboard, and what it leaves behind: concurrent replay starts never
orphan a thread; a non-loopback bind needs a token (or an explicit opt-out); Host and Origin
are checked against the bound addresses; the token stays out of logs and process arguments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rel_support import START

from pytest_eventrecorder import Cassette, EventRecorderConfig, RecordedEvent, write_cassette
from pytest_eventrecorder.server import create_app

REPLAY_THREAD = "eventrecorder-replay"


def replay_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == REPLAY_THREAD and t.is_alive()]


@pytest.fixture
def slow_app(tmp_path: Path) -> Iterator[Flask]:
    """A dashboard over one cassette that takes minutes to replay at 1x."""
    events = [RecordedEvent(i * 1000.0, "Tick", {"i": i}) for i in range(200)]
    write_cassette(tmp_path / "slow.json", Cassette.build("slow", events, start_time=START))
    app = create_app(EventRecorderConfig(recordings_dir=tmp_path), testing=True)
    yield app
    app.extensions["eventrecorder"].replay.stop()


# --------------------------------------------------------------------------- 13.15


def start_together(app: Flask, count: int) -> list[int]:
    """``count`` replay starts released at the same moment; their status codes."""
    barrier = threading.Barrier(count)
    codes: list[int] = []

    def start() -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post("/api/replay/start/slow.json", json={}).status_code)

    starters = [threading.Thread(target=start) for _ in range(count)]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    return codes


def test_concurrent_replay_starts_leave_no_thread_behind(slow_app: Flask) -> None:
    before = len(replay_threads())
    for _round in range(5):
        assert start_together(slow_app, 8) == [200] * 8
        assert len(replay_threads()) - before <= 1  # the one replay that won
    status = slow_app.test_client().post("/api/replay/stop").get_json()
    assert status["status"] == "stopped"
    assert len(replay_threads()) == before
