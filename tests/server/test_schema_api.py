"""A recording's inferred schema through the API: fields per event name, and the AsyncAPI
document to download (Flask's test client; the page is tests/browser/test_schema.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dashboard_samples import write
from flask.testing import FlaskClient

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.schema import asyncapi_document, infer
from pytest_eventrecorder.server.query import EventIndex


def orders() -> list[RecordedEvent]:
    events = []
    for i in range(12):
        data: dict[str, Any] = {
            "id": f"6f1c2b1e-8a4b-4c1e-9d2f-{i:012d}",
            "side": "buy" if i % 2 else "sell",
            "qty": i + 1,
            "at": f"2025-10-17T10:00:{i:02d}+00:00",
            "lines": [{"sku": f"s{i}", "price": 1.5 * i}],
        }
        if i % 3 == 0:
            data["note"] = None if i == 0 else "rush"
        events.append(RecordedEvent(i * 10.0, "OrderPlaced", data, "shop"))
    events.append(RecordedEvent(200.0, "Tick", 7, "clock"))
    return events


def fields_of(body: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    channel = next(c for c in body["event_names"] if c["name"] == name)
    return {f["path"]: f for f in channel["fields"]}


@pytest.mark.parametrize("filename", ["orders.json", "orders.jsonl.gz"])
def test_fields_per_event_name_with_types_presence_format_and_values(
    client: FlaskClient, recordings: Path, filename: str
) -> None:
    write(recordings, filename, orders())
    body = client.get(f"/api/recording/{filename}/schema").get_json()
    assert [(c["name"], c["count"], c["sources"]) for c in body["event_names"]] == [
        ("OrderPlaced", 12, ["shop"]),
        ("Tick", 1, ["clock"]),
    ]
    fields = fields_of(body, "OrderPlaced")
    assert list(fields) == [
        "event_data", "id", "side", "qty", "at", "lines", "lines.*", "lines.*.sku",
        "lines.*.price", "note",
    ]  # fmt: skip
    assert fields["id"] == {
        "path": "id", "types": ["string"], "required": True, "format": "uuid", "enum": None,
        "minimum": None, "maximum": None,
    }  # fmt: skip
    assert fields["side"]["enum"] == ["buy", "sell"]
    assert (fields["qty"]["types"], fields["qty"]["minimum"], fields["qty"]["maximum"]) == (
        ["integer"],
        1,
        12,
    )
    assert fields["at"]["format"] == "date-time"
    assert fields["note"]["required"] is False
    assert fields["note"]["types"] == ["null", "string"]
    assert fields["lines.*.price"]["types"] == ["number"]
    assert fields_of(body, "Tick") == {
        "event_data": {
            "path": "event_data", "types": ["integer"], "required": True, "format": None,
            "enum": None, "minimum": 7, "maximum": 7,
        }
    }  # fmt: skip


def test_the_asyncapi_document_downloads_and_is_cached_until_the_file_changes(
    client: FlaskClient, recordings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(recordings, "orders.jsonl", orders())
    answer = client.get("/api/recording/orders.jsonl/asyncapi")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="orders.asyncapi.json"'
    assert answer.get_json() == asyncapi_document(infer(orders()), "bull_run")

    def read_again(index: EventIndex) -> None:
        raise AssertionError("the schema was inferred again")

    monkeypatch.setattr(EventIndex, "replay_source", read_again)
    assert client.get("/api/recording/orders.jsonl/schema").status_code == 200
    monkeypatch.undo()
    write(recordings, "orders.jsonl", orders()[:2])
    body = client.get("/api/recording/orders.jsonl/schema").get_json()
    assert [c["count"] for c in body["event_names"]] == [2]


def test_a_broken_or_missing_recording_says_why(client: FlaskClient) -> None:
    missing = client.get("/api/recording/nope.json/schema")
    assert missing.status_code == 404
    assert "nope.json" in missing.get_json()["error"]
    broken = client.get("/api/recording/broken.json/asyncapi")
    assert broken.status_code == 422
    assert "event_name" in broken.get_json()["error"]
    bad = client.get("/api/recording/..%2fx.json/schema")
    assert bad.status_code == 400
