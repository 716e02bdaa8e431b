"""Recording through the API, and the simulated replay with its controls and event stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_samples import write
from flask import Flask
from flask.testing import FlaskClient

from pytest_eventrecorder import RecordedEvent, VirtualClock, read_cassette
from pytest_eventrecorder.server import ReplayManager
from pytest_eventrecorder.server.api import LiveRecording, kept_size

Wait = Callable[..., Any]


def post(client: FlaskClient, url: str, status: int = 200, **body: Any) -> Any:
    response = client.post(url, json=body) if body else client.post(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


# --------------------------------------------------------------------------- recording


def test_record_through_the_api(client: FlaskClient, recordings: Path) -> None:
    assert client.get("/api/record/status").get_json() == {
        "recording": False,
        "session_name": None,
        "total_events": 0,
        "elapsed_ms": 0.0,
    }
    assert post(client, "/api/record/start", session_name="my session") == {
        "status": "recording",
        "session_name": "my session",
    }
    first = post(
        client,
        "/api/record/event",
        event_name="TestEvent",
        event_data={"key": "value"},
        source="TestAgent",
    )
    second = post(client, "/api/record/event", event_name="Other", event_data=None)
    assert (first, second) == (
        {"status": "recorded", "index": 0},
        {"status": "recorded", "index": 1},
    )
    status = client.get("/api/record/status").get_json()
    assert (status["recording"], status["session_name"], status["total_events"]) == (
        True,
        "my session",
        2,
    )
    assert status["elapsed_ms"] >= 0
    stopped = post(client, "/api/record/stop")
    assert stopped == {"status": "stopped", "filename": "my_session.json", "total_events": 2}
    saved = read_cassette(recordings / "my_session.json")
    assert saved.header.session_name == "my session"
    assert [(e.event_name, e.event_data, e.source) for e in saved.events] == [
        ("TestEvent", {"key": "value"}, "TestAgent"),
        ("Other", None, None),
    ]
    assert not client.get("/api/record/status").get_json()["recording"]


def test_a_live_recording_refuses_events_past_its_memory_limit(
    app: Flask, client: FlaskClient, recordings: Path
) -> None:
    dashboard = app.extensions["eventrecorder"]
    one = kept_size("Big", "x" * 150, "0", None)
    dashboard.live = LiveRecording(dashboard.store, limit_bytes=5 * one + one // 2)
    post(client, "/api/record/start", session_name="capped")
    for i in range(5):
        post(client, "/api/record/event", event_name="Big", event_data="x" * 150, source=str(i))
    refused = post(client, "/api/record/event", 409, event_name="Big", event_data="x" * 150)
    assert "holds 5 events" in refused["error"]
    assert "Stop it to save it" in refused["error"]
    stopped = post(client, "/api/record/stop")
    assert stopped["total_events"] == 5  # nothing received before the limit is lost
    assert len(read_cassette(recordings / stopped["filename"]).events) == 5
    post(client, "/api/record/start", session_name="fresh budget")
    post(client, "/api/record/event", event_name="Big", event_data="x" * 150)


def test_a_stopped_session_never_overwrites_a_recording(
    client: FlaskClient, recordings: Path
) -> None:
    before = (recordings / "session.json").read_bytes()
    post(client, "/api/record/start", session_name="session")
    assert post(client, "/api/record/stop")["filename"] == "session_1.json"
    assert (recordings / "session.json").read_bytes() == before


def test_metadata_is_kept(client: FlaskClient, recordings: Path) -> None:
    post(client, "/api/record/start", session_name="m", metadata={"ticket": "BUG-1"})
    post(client, "/api/record/event", event_name="E", event_data=1, metadata={"trace": "t1"})
    saved = read_cassette(recordings / post(client, "/api/record/stop")["filename"])
    assert saved.header.metadata == {"ticket": "BUG-1"}
    assert saved.events[0].metadata == {"trace": "t1"}


def test_one_session_at_a_time(client: FlaskClient) -> None:
    post(client, "/api/record/start", session_name="a")
    error = post(client, "/api/record/start", 409, session_name="b")["error"]
    assert "already recording 'a'" in error


@pytest.mark.parametrize("url", ["/api/record/event", "/api/record/stop"])
def test_recording_calls_need_a_session(client: FlaskClient, url: str) -> None:
    body = {"event_name": "E", "event_data": 1} if url.endswith("event") else {}
    assert "POST /api/record/start first" in post(client, url, 409, **body)["error"]


@pytest.mark.parametrize(
    ("url", "body", "words"),
    [
        ("/api/record/start", {}, ("'session_name' is required",)),
        ("/api/record/start", {"session_name": 5}, ("'session_name'", "a number")),
        ("/api/record/start", {"session_name": "  "}, ("must not be empty or blank",)),
        ("/api/record/start", {"session_name": ["a"]}, ("a list",)),
        ("/api/record/start", {"session_name": "a", "metadata": []}, ("'metadata'", "an object")),
        ("/api/record/event", {"event_data": 1}, ("'event_name' is required",)),
        ("/api/record/event", {"event_name": "E"}, ("'event_data' is required",)),
        ("/api/record/event", {"event_name": {}, "event_data": 1}, ("'event_name'",)),
        ("/api/record/event", {"event_name": "E", "event_data": 1, "source": 3}, ("'source'",)),
        (
            "/api/record/event",
            {"event_name": "E", "event_data": 1, "metadata": "x"},
            ("'metadata'",),
        ),
    ],
)
def test_recording_refuses_bad_bodies(
    client: FlaskClient, url: str, body: dict[str, Any], words: tuple[str, ...]
) -> None:
    if url.endswith("event"):
        post(client, "/api/record/start", session_name="s")
    error = post(client, url, 400, **body)["error"] if body else post(client, url, 400)["error"]
    for word in words:
        assert word in error


# --------------------------------------------------------------------------- replay


@pytest.fixture
def instant(app: Flask) -> None:
    """Replays that take no time: a virtual clock under the scaled one."""
    app.extensions["eventrecorder"].replay = ReplayManager(clock_factory=VirtualClock)


@pytest.fixture
def long_recording(recordings: Path) -> str:
    """Events an hour apart: a real-clock replay of it stays playing for the whole test."""
    events = [RecordedEvent(i * 3_600_000.0, "Tick", {"n": i}, "Clock") for i in range(3)]
    write(recordings, "long.json", events)
    return "long.json"


def status(client: FlaskClient) -> Any:
    return client.get("/api/replay/status").get_json()


def test_the_replay_is_idle_at_first(client: FlaskClient) -> None:
    assert status(client) == {
        "status": "idle",
        "filename": None,
        "speed": 1.0,
        "position": 0,
        "total": 0,
        "current_offset_ms": 0.0,
        "current_event": None,
        "simulation": True,
        "error": None,
    }


@pytest.mark.usefixtures("instant")
@pytest.mark.parametrize("name", ["session.json", "session.jsonl", "session.jsonl.gz"])
def test_a_replay_runs_to_the_end(client: FlaskClient, wait_for: Wait, name: str) -> None:
    started = post(client, f"/api/replay/start/{name}", speed=2.0)
    assert (started["filename"], started["speed"], started["total"]) == (name, 2.0, 10)
    assert started["status"] in ("playing", "finished")
    final = wait_for(lambda: (s := status(client))["status"] == "finished" and s, "the end")
    assert (final["position"], final["current_offset_ms"]) == (10, 900.0)
    assert final["current_event"]["index"] == 9
    assert final["current_event"]["event_name"] == "OrderPlaced"
    assert final["simulation"] is True


@pytest.mark.usefixtures("instant")
def test_start_without_a_body_uses_the_current_speed(client: FlaskClient) -> None:
    post(client, "/api/replay/speed", speed=4)
    assert post(client, "/api/replay/start/session.json")["speed"] == 4.0


def test_pause_resume_speed_and_stop(
    client: FlaskClient, long_recording: str, wait_for: Wait
) -> None:
    assert post(client, f"/api/replay/start/{long_recording}")["status"] == "playing"
    wait_for(lambda: status(client)["position"] == 1, "the first event")
    assert post(client, "/api/replay/pause")["status"] == "paused"
    assert status(client)["status"] == "paused"
    assert post(client, "/api/replay/pause")["status"] == "playing"
    faster = post(client, "/api/replay/speed", speed=5.0)
    assert (faster["status"], faster["speed"]) == ("playing", 5.0)
    assert status(client)["speed"] == 5.0
    stopped = post(client, "/api/replay/stop")
    assert (stopped["status"], stopped["position"]) == ("stopped", 1)
    assert post(client, "/api/replay/stop")["status"] == "stopped"


def test_a_new_replay_replaces_the_running_one(
    client: FlaskClient, long_recording: str, wait_for: Wait
) -> None:
    post(client, f"/api/replay/start/{long_recording}")
    post(client, f"/api/replay/start/{long_recording}", speed=3)
    current = status(client)
    assert (current["status"], current["speed"]) == ("playing", 3.0)


def test_a_speed_change_moves_a_waiting_replay_on(
    client: FlaskClient, recordings: Path, wait_for: Wait
) -> None:
    write(recordings, "gap.json", [RecordedEvent(0.0, "A", 1), RecordedEvent(60_000.0, "B", 2)])
    post(client, "/api/replay/start/gap.json")
    wait_for(lambda: status(client)["position"] == 1, "the first event")
    post(client, "/api/replay/speed", speed=1000)
    wait_for(lambda: status(client)["status"] == "finished", "the sped-up end")


def test_pause_needs_a_running_replay(client: FlaskClient) -> None:
    error = post(client, "/api/replay/pause", 409)["error"]
    assert "no replay is playing or paused (status: idle)" in error


@pytest.mark.parametrize(
    ("url", "body", "status_code", "words"),
    [
        ("/api/replay/start/session.json", {"speed": 0}, 400, ("'speed'", "from 0.01")),
        ("/api/replay/start/session.json", {"speed": -2}, 400, ("'speed'",)),
        ("/api/replay/start/session.json", {"speed": 1e9}, 400, ("'speed'",)),
        ("/api/replay/start/session.json", {"speed": "fast"}, 400, ("'speed'", "a number")),
        ("/api/replay/start/session.json", {"speed": True}, 400, ("'speed'",)),
        ("/api/replay/start/nope.json", {}, 404, ("no recording named",)),
        ("/api/replay/start/broken.json", {}, 422, ("broken.json",)),
        ("/api/replay/start/..%5cx.json", {}, 400, ("invalid file name",)),
        ("/api/replay/speed", {}, 400, ("'speed' is required",)),
        ("/api/replay/speed", {"speed": None}, 400, ("'speed' is required",)),
        ("/api/replay/speed", {"speed": [2]}, 400, ("'speed'",)),
    ],
)
def test_replay_refuses_bad_requests(
    client: FlaskClient, url: str, body: dict[str, Any], status_code: int, words: tuple[str, ...]
) -> None:
    response = client.post(url, json=body)
    assert response.status_code == status_code
    for word in words:
        assert word in response.get_json()["error"]
    assert status(client)["status"] == "idle"


# --------------------------------------------------------------------------- the stream


def messages(client: FlaskClient, url: str = "/api/replay/stream") -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    return [
        json.loads(line[len("data: ") :])
        for line in text.split("\n\n")
        if line.startswith("data: ")
    ]


def test_the_stream_ends_at_once_when_idle(client: FlaskClient) -> None:
    assert [m["status"] for m in messages(client)] == ["idle"]


@pytest.mark.usefixtures("instant")
def test_the_stream_ends_after_a_finished_replay(client: FlaskClient, wait_for: Wait) -> None:
    post(client, "/api/replay/start/session.json")
    wait_for(lambda: status(client)["status"] == "finished", "the end")
    sent = messages(client)
    assert sent[-1]["status"] == "finished"
    assert sent[-1]["position"] == 10


def test_the_stream_follows_a_replay_until_it_stops(
    client: FlaskClient, long_recording: str, app: Flask
) -> None:
    manager = app.extensions["eventrecorder"].replay
    post(client, f"/api/replay/start/{long_recording}")
    response = client.get("/api/replay/stream")
    chunks: Iterator[Any] = iter(response.response)
    first = next(chunks)
    assert json.loads(first[len("data: ") :])["status"] == "playing"
    manager.stop()
    rest = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks).decode()
    last = [m for m in rest.split("\n\n") if m.startswith("data: ")][-1]
    assert json.loads(last[len("data: ") :])["status"] == "stopped"
