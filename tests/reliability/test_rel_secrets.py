"""Recording a real Flask app's signals keeps its secrets and its object graph out of the
cassette, and records exceptions with their content, identically on every run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import flask
import pytest
import redis

from pytest_eventrecorder import EventRecorder
from pytest_eventrecorder.adapters.payload import RAW_KEY
from pytest_eventrecorder.serialize import EXCEPTION_TAG, REDACTED, UNSERIALIZABLE_TAG, snapshot

SECRET_KEY = "flask-secret-9f8e7d"
DB_PASSWORD = "db-password-1a2b3c"
BEARER = "Bearer auth-header-4d5e6f"


def make_app(tmp_path: Path) -> flask.Flask:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "page.html").write_text("<p>{{ user }} {{ request.path }}</p>")
    app = flask.Flask("secrets_app", template_folder=str(templates))
    app.config.update(SECRET_KEY=SECRET_KEY, DB_PASSWORD=DB_PASSWORD)

    @app.route("/page")
    def page() -> str:
        flask.session["seen"] = True
        return flask.render_template("page.html", user="bob")

    @app.route("/fail")
    def fail() -> str:
        raise ValueError("kaboom")

    return app


def record_requests(tmp_path: Path) -> list[dict[str, object]]:
    app = make_app(tmp_path)
    recorder = EventRecorder("flask", tmp_path)
    recorder.start_recording(flask.signals._signals)
    try:
        client = app.test_client()
        assert client.get("/page", headers={"Authorization": BEARER}).status_code == 200
        assert client.get("/fail").status_code == 500
    finally:
        recorder.stop_recording()
    path = recorder.save(tmp_path / f"flask_{len(list(tmp_path.glob('*.json')))}.json")
    return list(json.loads(path.read_text())["events"])


def test_flask_signals_record_no_secrets_and_stay_small(tmp_path: Path) -> None:
    events = record_requests(tmp_path)
    names = [e["event_name"] for e in events]
    assert "template-rendered" in names
    assert "got-request-exception" in names
    text = json.dumps(events)
    for secret in (SECRET_KEY, DB_PASSWORD, BEARER, "auth-header"):
        assert secret not in text
    for event in events:
        assert len(json.dumps(event)) < 4096, event["event_name"]
    rendered = next(e for e in events if e["event_name"] == "template-rendered")
    assert rendered["event_data"]["context"]["user"] == "bob"  # type: ignore[index]
    request = rendered["event_data"]["context"]["request"]  # type: ignore[index]
    assert request["path"] == "/page"
    assert request["headers"]["Authorization"] == REDACTED


def test_flask_request_exception_is_recorded_with_its_content(tmp_path: Path) -> None:
    events = record_requests(tmp_path)
    failed = next(e for e in events if e["event_name"] == "got-request-exception")
    assert failed["event_data"]["exception"] == {  # type: ignore[index]
        EXCEPTION_TAG: "builtins.ValueError",
        "message": "kaboom",
        "args": ["kaboom"],
    }


def test_flask_signal_recordings_are_identical_run_to_run(tmp_path: Path) -> None:
    first = record_requests(tmp_path)
    second = record_requests(tmp_path)
    assert "0x" not in json.dumps(first)

    def content(events: list[dict[str, object]]) -> list[object]:
        return [(e["event_name"], e["event_data"], e["source"]) for e in events]

    assert content(first) == content(second)


def test_a_broker_payload_with_a_credential_keeps_no_raw_copy_of_it() -> None:
    client = redis.Redis.from_url("redis://localhost:6379/0")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on localhost:6379")
    recorder = EventRecorder("redis", "unused")
    recorder.start_recording("redis://localhost:6379/0?channel=h1secrets.*")
    try:
        for i in range(2000):
            client.publish("h1secrets.login", json.dumps({"user": i, "token": "tok-123"}))
        deadline = time.monotonic() + 30
        while recorder.event_count < 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        recorder.stop_recording()
        client.close()
    events = recorder.events
    assert len(events) == 2000
    assert "tok-123" not in json.dumps([e.to_dict() for e in events])
    assert all(e.event_data["token"] == REDACTED for e in events)
    assert all(RAW_KEY not in (e.metadata or {}) for e in events)


def test_flask_response_and_headers_keep_their_content(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    response = app.test_client().get("/page", headers={"Authorization": BEARER})
    data = snapshot({"response": response, "headers": response.headers})
    assert data["response"][UNSERIALIZABLE_TAG].endswith("TestResponse")
    assert "200 OK" in data["response"]["repr"]
    assert data["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert REDACTED in {data["headers"].get("Set-Cookie"), data["headers"].get("Vary")}
