"""/api/diff: field paths as the report prints them, a warning for a path that names no
field, and .jsonl recordings compared as a stream (Flask's test client)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dashboard_samples import sample_events, write
from flask.testing import FlaskClient

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.compare import STREAM_WINDOW, compare_events
from pytest_eventrecorder.server.query import EventIndex


def repriced(events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [
        RecordedEvent(e.timestamp_offset_ms, e.event_name, {**e.event_data, "price": 0}, e.source)
        for e in events
    ]


def test_the_reported_path_is_ignored_and_a_path_naming_nothing_is_a_warning(
    client: FlaskClient, recordings: Path
) -> None:
    write(recordings, "repriced.json", repriced(sample_events()))
    url = "/api/diff?a=session.json&b=repriced.json"
    answer = client.get(f"{url}&ignore_field=event_data.price&ignore_field=event_data.prise")
    body = answer.get_json()
    assert body["equal"] is True, body
    assert body["warnings"] == [
        "ignore_field path 'event_data.prise' matches no field in any event's data"
    ]
    assert client.get(url).get_json()["warnings"] == []


def test_jsonl_recordings_are_compared_as_streams(
    client: FlaskClient, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = STREAM_WINDOW + 500
    expected = [RecordedEvent(i * 1.0, f"E{i % 3}", {"n": i}, "feed") for i in range(count)]
    actual = list(expected)
    actual[count - 10] = RecordedEvent(0.0, "E0", {"n": -1}, "feed")
    del actual[7]
    write(recordings, "a.jsonl", expected)
    write(recordings, "b.jsonl.gz", actual)

    def whole(index: EventIndex) -> None:
        raise AssertionError(f"{index.filename} was loaded whole")

    monkeypatch.setattr(EventIndex, "cassette", whole)
    body = client.get("/api/diff?a=a.jsonl&b=b.jsonl.gz").get_json()
    assert body["differences"] == [d.to_dict() for d in compare_events(expected, actual)]
    assert (body["total_differences"], body["truncated"]) == (2, False)
    assert body["counts"] == {"changed": 1, "missing": 1}


@pytest.mark.parametrize(
    "field",
    ["order.side", "event_data.order.side", "event_data.'order'.side", 'event_data."order".side'],
)
def test_the_event_filter_takes_the_same_paths(client: FlaskClient, field: str) -> None:
    answer = client.get(f"/api/recording/session.json/events?field={field}&value=sell")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found = answer.get_json()["events"]
    assert [e["event_data"]["price"] - 100 for e in found] == [0, 3, 6, 9]


def test_the_event_filter_reaches_a_key_holding_a_dot(
    client: FlaskClient, recordings: Path
) -> None:
    events = [RecordedEvent(0.0, "E", {"unit.price": "4.5", "unit": {"price": "1"}}, "s")]
    write(recordings, "dots.jsonl", events)
    url = '/api/recording/dots.jsonl/events?field=event_data."unit.price"&value=4.5'
    assert len(client.get(url).get_json()["events"]) == 1


def test_a_badly_quoted_filter_path_is_refused_naming_it(client: FlaskClient) -> None:
    answer = client.get("/api/recording/session.json/events?field=event_data.'order&value=x")
    assert answer.status_code == 400
    assert "never closed" in answer.get_json()["error"]


def test_a_streamed_recording_that_turns_bad_midway_is_a_422_naming_it(
    client: FlaskClient, recordings: Path
) -> None:
    path = write(recordings, "late.jsonl", sample_events())
    lines = path.read_text().splitlines()
    write(recordings, "a.jsonl", sample_events())
    path.write_text("\n".join([*lines[:6], lines[6][:-1] + ', "x": [}}', *lines[7:]]) + "\n")
    answer = client.get("/api/diff?a=a.jsonl&b=late.jsonl")
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert "late.jsonl" in answer.get_json()["error"]
