"""The Review API: pending cassettes listed, accepted or rejected, and nothing else touched
(Flask's test client; the browser test is tests/browser/test_review.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_samples import sample_events, write
from flask import Flask
from flask.testing import FlaskClient
from test_dashboard_safety import TRAVERSAL

from pytest_eventrecorder import EventRecorderConfig, RecordedEvent
from pytest_eventrecorder.formats import read_cassette
from pytest_eventrecorder.server import create_app


def changed() -> list[RecordedEvent]:
    events = sample_events()
    events[3] = RecordedEvent(300.0, "OrderPlaced", {"price": 0}, "MarketDataAgent")
    return events


@pytest.fixture
def pending(recordings: Path) -> Path:
    """``sub/test_buy.pending.json`` beside the recorded ``sub/test_buy.json``."""
    write(recordings / "sub", "test_buy.json")
    return write(recordings / "sub", "test_buy.pending.json", changed(), session="rerun")


def test_pending_cassettes_are_listed_apart_and_never_replayed(
    client: FlaskClient, pending: Path, recordings: Path
) -> None:
    write(recordings, "new.pending.jsonl", sample_events()[:2])  # nothing recorded yet
    review = client.get("/api/review").get_json()
    assert [(p["filename"], p["recorded"], p["recorded_exists"]) for p in review["pending"]] == [
        ("new.pending.jsonl", "new.jsonl", False),
        ("sub/test_buy.pending.json", "sub/test_buy.json", True),
    ]
    assert review["pending"][1]["total_events"] == 10
    listed = {r["filename"]: r for r in client.get("/api/recordings").get_json()["recordings"]}
    assert listed["sub/test_buy.pending.json"]["pending"] is True
    assert listed["sub/test_buy.json"]["pending"] is False
    refused = client.post("/api/replay/start/sub/test_buy.pending.json", json={})
    assert refused.status_code == 409
    assert "pending cassette" in refused.get_json()["error"]
    assert "Review" in refused.get_json()["error"]


def test_accept_replaces_the_recorded_cassette_and_reject_deletes_the_pending_one(
    client: FlaskClient, pending: Path, recordings: Path
) -> None:
    before = client.get("/api/recording/sub/test_buy.json").get_json()  # indexed, then replaced
    assert before["session_name"] == "bull_run"
    answer = client.post("/api/review/accept/sub/test_buy.pending.json")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "accepted": "sub/test_buy.pending.json",
        "recorded": "sub/test_buy.json",
    }
    assert not pending.exists()
    assert read_cassette(recordings / "sub" / "test_buy.json").header.session_name == "rerun"
    assert client.get("/api/recording/sub/test_buy.json").get_json()["session_name"] == "rerun"

    write(recordings / "sub", "test_buy.pending.json", sample_events())
    answer = client.post("/api/review/reject/sub/test_buy.pending.json")
    assert answer.get_json() == {"rejected": "sub/test_buy.pending.json"}
    assert not pending.exists()
    assert read_cassette(recordings / "sub" / "test_buy.json").header.session_name == "rerun"
    assert client.get("/api/review").get_json() == {"pending": [], "count": 0}


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_a_pending_cassette_gone_meanwhile_is_a_clear_404(
    client: FlaskClient, pending: Path, action: str
) -> None:
    pending.unlink()
    answer = client.post(f"/api/review/{action}/sub/test_buy.pending.json")
    assert answer.status_code == 404
    assert "already accepted or rejected" in answer.get_json()["error"]


@pytest.mark.parametrize("action", ["accept", "reject"])
def test_only_pending_cassettes_can_be_accepted_or_rejected(
    client: FlaskClient, pending: Path, recordings: Path, action: str
) -> None:
    answer = client.post(f"/api/review/{action}/sub/test_buy.json")
    assert answer.status_code == 400
    assert "not a pending cassette" in answer.get_json()["error"]
    assert (recordings / "sub" / "test_buy.json").exists()
    outside = write(recordings.parent, "elsewhere.pending.json", session="SECRET")
    (recordings / "linked.pending.json").symlink_to(outside)
    answer = client.post(f"/api/review/{action}/linked.pending.json")
    assert answer.status_code == 400
    assert outside.exists()
    assert not (recordings.parent / "elsewhere.json").exists()


@pytest.mark.parametrize("name", TRAVERSAL)
def test_nothing_outside_the_folder_can_be_accepted_or_rejected(
    client: FlaskClient, recordings: Path, name: str
) -> None:
    write(recordings.parent, "secret.pending.json", session="SECRET")
    (recordings / "link.json").symlink_to(recordings.parent / "secret.pending.json")
    for action in ("accept", "reject"):
        for variant in (name, name.replace(".json", ".pending.json")):
            answer = client.post(f"/api/review/{action}/{variant}")
            assert answer.status_code in (400, 404), (action, variant)
            assert "SECRET" not in answer.get_data(as_text=True)
    assert (recordings.parent / "secret.pending.json").exists()
    assert not (recordings.parent / "secret.json").exists()


def test_accept_and_reject_follow_the_token_and_origin_rules(
    recordings: Path, pending: Path
) -> None:
    app: Flask = create_app(EventRecorderConfig(recordings_dir=recordings), token="tok")
    client = app.test_client()
    url = "/api/review/reject/sub/test_buy.pending.json"
    assert client.get("/api/review").status_code == 401
    assert client.post(url).status_code == 401
    bearer = {"Authorization": "Bearer tok"}
    foreign = client.post(url, headers={**bearer, "Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert pending.exists()
    assert client.post(url, headers=bearer).status_code == 200
    assert not pending.exists()
