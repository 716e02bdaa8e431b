"""What a signal replay needs besides the data: blinker's sender object and pyee's Enum event
names come back as the live objects, or the replay says that they could not."""

from __future__ import annotations

import enum
import json
import math
import warnings
from pathlib import Path
from typing import Any

import blinker
import flask
import pytest
from pyee import EventEmitter

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.serialize import EXCEPTION_TAG, RebuildWarning


class Ev(enum.Enum):
    FILL = "fill"
    CANCEL = "cancel"


def flask_app() -> flask.Flask:
    app = flask.Flask("identity_app")

    @app.route("/ping")
    def ping() -> str:
        return "pong"

    return app


def test_flask_receivers_connected_to_their_app_get_replayed_signals(tmp_path: Path) -> None:
    app = flask_app()
    seen: list[object] = []

    def on_started(sender: object, **extra: Any) -> None:
        seen.append(sender)

    flask.request_started.connect(on_started, app)
    try:
        recorder = EventRecorder("flask", tmp_path)
        recorder.start_recording(flask.signals._signals)
        client = app.test_client()
        for _ in range(500):
            client.get("/ping")
        recorder.stop_recording()
        path = recorder.save(tmp_path / "flask.json")
        assert len(seen) == 500
        seen.clear()
        started = EventReplayer(path).filter_events(lambda name: name == "request-started")
        result = started.replay(flask.signals._signals, math.inf)
    finally:
        flask.request_started.disconnect(on_started, app)
    assert result.published == 500
    assert result.warnings == []
    assert len(seen) == 500
    assert all(sender is app for sender in seen)


def test_a_sender_that_cannot_be_found_is_reported_not_silent() -> None:
    class Shop:
        pass

    ns = blinker.Namespace()
    recorder = EventRecorder("s")
    recorder.start_recording(ns)
    for _ in range(1000):
        ns.signal("sold").send(Shop(), qty=1)
    recorder.stop_recording()
    replay_ns = blinker.Namespace()
    got: list[object] = []
    replay_ns.signal("sold").connect(lambda sender, **kw: got.append(sender), weak=False)
    with pytest.warns(RebuildWarning, match=r"no live sender of type .*Shop"):
        result = EventReplayer.from_events(recorder.events).replay(replay_ns, math.inf)
    assert len(got) == 1000
    assert len(result.warnings) == 1
    assert "sold" in result.warnings[0]


def test_a_signal_nobody_listens_to_replays_without_a_sender_warning(tmp_path: Path) -> None:
    app = flask_app()
    recorder = EventRecorder("flask", tmp_path)
    recorder.start_recording(flask.signals._signals)
    client = app.test_client()
    for _ in range(500):
        client.get("/ping")
    recorder.stop_recording()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RebuildWarning)  # no receiver: no sender to miss
        result = EventReplayer.from_events(recorder.events).replay(
            flask.signals._signals, math.inf
        )
    assert result.published == len(recorder.events) >= 1000
    assert result.warnings == []


def test_pyee_enum_event_names_come_back_as_members() -> None:
    emitter = EventEmitter()
    recorder = EventRecorder("pyee")
    recorder.start_recording(emitter)
    for i in range(1000):
        emitter.emit(Ev.FILL, {"qty": i})
    emitter.emit("plain", 1)
    recorder.stop_recording()
    replay_into = EventEmitter()
    fills: list[object] = []
    plain: list[object] = []
    replay_into.on(Ev.FILL, fills.append)
    replay_into.on("plain", plain.append)
    result = EventReplayer.from_events(recorder.events).replay(replay_into, math.inf)
    assert fills == [{"qty": i} for i in range(1000)]
    assert plain == [1]
    assert result.warnings == []


def test_a_pyee_enum_that_cannot_be_found_is_reported() -> None:
    event = RecordedEvent(
        0, "Side.BUY", {"qty": 1}, metadata={"pyee_event": "not_imported_mod:Side.BUY"}
    )
    emitter = EventEmitter()
    got: list[object] = []
    emitter.on("Side.BUY", got.append)
    with pytest.warns(RebuildWarning, match="not_imported_mod"):
        result = EventReplayer.from_events([event]).replay(emitter, math.inf)
    assert got == [{"qty": 1}]
    assert "Side.BUY" in result.warnings[0]


def test_pyee_error_events_record_the_exception() -> None:
    emitter = EventEmitter()
    emitter.on("error", lambda exc: None)
    recorder = EventRecorder("pyee")
    recorder.start_recording(emitter)
    emitter.emit("error", ValueError("kaboom"))
    recorder.stop_recording()
    (event,) = recorder.events
    assert event.event_data == {
        EXCEPTION_TAG: "builtins.ValueError",
        "message": "kaboom",
        "args": ["kaboom"],
    }
    assert "0x" not in json.dumps(event.to_dict())
