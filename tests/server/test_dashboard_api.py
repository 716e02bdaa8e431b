"""The recordings endpoints: list, details, events, fields, timeline, create, diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dashboard_samples import sample_events, write
from flask.testing import FlaskClient

from pytest_eventrecorder import RecordedEvent, read_cassette

FORMATS = ["session.json", "session.jsonl", "session.yaml", "session.jsonl.gz"]


def ok(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def refused(client: FlaskClient, url: str, status: int, *words: str, **post: Any) -> str:
    response = client.post(url, **post) if post else client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    message: str = response.get_json()["error"]
    for word in words:
        assert word in message
    return message


# --------------------------------------------------------------------------- list


def test_the_list_has_the_contract_fields(client: FlaskClient, recordings: Path) -> None:
    body = ok(client, "/api/recordings")
    assert body["count"] == 5
    assert body["recordings_dir"] == str(recordings)
    entry = next(r for r in body["recordings"] if r["filename"] == "session.json")
    assert set(entry) == {
        "filename",
        "session_name",
        "start_time",
        "total_events",
        "duration_ms",
        "size_bytes",
        "modified",
        "pending",
    }
    assert (entry["session_name"], entry["total_events"], entry["duration_ms"]) == (
        "bull_run",
        10,
        900.0,
    )
    broken = next(r for r in body["recordings"] if r["filename"] == "broken.json")
    assert "event_name" in broken["error"]


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("sort=name", "broken.json", "session.yaml"),
        ("sort=name&order=desc", "session.yaml", "broken.json"),
        ("sort=events", "session.json", "broken.json"),
    ],
)
def test_the_list_sorts(client: FlaskClient, query: str, first: str, last: str) -> None:
    names = [r["filename"] for r in ok(client, f"/api/recordings?{query}")["recordings"]]
    assert (names[0], names[-1]) == (first, last)


def test_the_list_sorts_by_date_newest_first(client: FlaskClient, recordings: Path) -> None:
    newer = sample_events()[:1]
    write(recordings, "later.json", newer)
    cassette = json.loads((recordings / "later.json").read_text())
    cassette["start_time"] = "2099-01-01T00:00:00Z"
    (recordings / "later.json").write_text(json.dumps(cassette))
    assert ok(client, "/api/recordings")["recordings"][0]["filename"] == "later.json"


def test_the_list_searches_names_and_sessions(client: FlaskClient, recordings: Path) -> None:
    write(recordings, "other.json", session="Crash Monday")
    assert [r["filename"] for r in ok(client, "/api/recordings?q=crash")["recordings"]] == [
        "other.json"
    ]
    assert ok(client, "/api/recordings?q=JSONL")["count"] == 2


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_list_sorts_by_size(client: FlaskClient, order: str) -> None:
    sizes = [
        r["size_bytes"]
        for r in ok(client, f"/api/recordings?sort=size&order={order}")["recordings"]
    ]
    assert sizes == sorted(sizes, reverse=order == "desc")


@pytest.mark.parametrize("query", ["sort=colour", "order=sideways", "sort=name&order=up"])
def test_the_list_refuses_unknown_sorting(client: FlaskClient, query: str) -> None:
    refused(client, f"/api/recordings?{query}", 400, "must be one of")


def test_an_empty_or_missing_folder_lists_nothing(tmp_path: Path) -> None:
    from pytest_eventrecorder import EventRecorderConfig
    from pytest_eventrecorder.server import create_app

    app = create_app(EventRecorderConfig(recordings_dir=tmp_path / "none"), testing=True)
    assert ok(app.test_client(), "/api/recordings")["recordings"] == []


# --------------------------------------------------------------------------- one recording


@pytest.mark.parametrize("name", FORMATS)
def test_details_have_the_summaries(client: FlaskClient, recordings: Path, name: str) -> None:
    body = ok(client, f"/api/recording/{name}")
    assert body["filename"] == name
    assert body["session_name"] == "bull_run"
    assert body["start_time"] == "2025-10-17T10:00:00Z"
    assert body["total_events"] == 10
    assert body["duration_ms"] == 900.0
    assert body["size_bytes"] == (recordings / name).stat().st_size
    assert body["version"] >= 1
    assert body["event_summary"] == {"MarketDataReceived": 5, "OrderPlaced": 5}
    assert list(body["source_summary"].items()) == [
        ("MarketDataAgent", 5),
        ("TradingBot", 4),
        ("", 1),
    ]


def test_summaries_are_ordered_most_common_first(client: FlaskClient, recordings: Path) -> None:
    events = [RecordedEvent(float(i), "Z" if i else "A", {}) for i in range(4)]
    write(recordings, "skewed.json", events)
    assert list(ok(client, "/api/recording/skewed.json")["event_summary"]) == ["Z", "A"]


@pytest.mark.parametrize("suffix", ["", "/events", "/fields", "/timeline"])
def test_a_missing_recording_is_404(client: FlaskClient, suffix: str) -> None:
    refused(client, f"/api/recording/nope.json{suffix}", 404, "no recording named 'nope.json'")


@pytest.mark.parametrize("suffix", ["", "/events", "/fields", "/timeline"])
def test_a_corrupted_recording_is_422_with_its_problem(client: FlaskClient, suffix: str) -> None:
    message = refused(client, f"/api/recording/broken.json{suffix}", 422)
    assert message.startswith("broken.json, event 0, field 'event_name'")


def test_a_corrupted_jsonl_names_the_line(client: FlaskClient, recordings: Path) -> None:
    text = (recordings / "session.jsonl").read_text().splitlines()
    text[3] = "{not json"
    (recordings / "cut.jsonl").write_text("\n".join(text) + "\n")
    refused(client, "/api/recording/cut.jsonl/events", 422, "cut.jsonl, line 4", "not valid JSON")


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("name", FORMATS)
def test_events_come_with_their_index(client: FlaskClient, name: str) -> None:
    body = ok(client, f"/api/recording/{name}/events?limit=3&offset=2")
    assert (body["total"], body["offset"], body["limit"]) == (10, 2, 3)
    assert body["events"] == [{"index": i, **sample_events()[i].to_dict()} for i in (2, 3, 4)]


def test_events_default_to_a_page_of_100(client: FlaskClient) -> None:
    body = ok(client, "/api/recording/session.jsonl/events")
    assert (len(body["events"]), body["limit"], body["offset"]) == (10, 100, 0)


@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("event_name=OrderPlaced", [1, 3, 5, 7, 9]),
        ("event_name=OrderPlaced&event_name=MarketDataReceived", list(range(10))),
        ("source=TradingBot", [5, 6, 7, 8]),
        ("source=", [9]),
        ("event_name=OrderPlaced&source=TradingBot", [5, 7]),
        ("q=ETH", [6, 7, 8, 9]),
        ("field=order.side&value=sell", [0, 3, 6, 9]),
        ("field=items.*.sku&value=S4", [4]),
        ("field=order.id", list(range(10))),
        ("from_ms=150&to_ms=450", [2, 3, 4]),
        ("event_name=OrderPlaced&q=btc&from_ms=200", [3, 5]),
        ("offset=8", [8, 9]),
        ("offset=100", []),
        ("limit=0", []),
    ],
)
def test_events_are_filtered(client: FlaskClient, query: str, indexes: list[int]) -> None:
    body = ok(client, f"/api/recording/session.jsonl/events?{query}")
    assert [e["index"] for e in body["events"]] == indexes


def test_the_total_counts_every_match_not_the_page(client: FlaskClient) -> None:
    body = ok(client, "/api/recording/session.json/events?event_name=OrderPlaced&limit=2")
    assert (len(body["events"]), body["total"]) == (2, 5)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("limit=abc", ("'limit'", "whole number")),
        ("limit=1001", ("'limit'", "from 0 to 1000")),
        ("limit=-1", ("'limit'",)),
        ("offset=-5", ("'offset'",)),
        ("offset=1.5", ("'offset'",)),
        ("from_ms=soon", ("'from_ms'",)),
        ("to_ms=-1", ("'to_ms'", ">= 0")),
        ("from_ms=nan", ("'from_ms'", "finite")),
        ("to_ms=inf", ("'to_ms'", "finite")),
        ("from_ms=5&to_ms=1", ("from_ms", "after to_ms")),
        ("value=x", ("'value' needs 'field'",)),
        ("field=a..b&value=1", ("empty segment",)),
    ],
)
def test_bad_event_queries_are_400(client: FlaskClient, query: str, words: tuple[str, ...]) -> None:
    refused(client, f"/api/recording/session.jsonl/events?{query}", 400, *words)


# --------------------------------------------------------------------------- fields and timeline


def test_fields_list_names_sources_and_paths(client: FlaskClient) -> None:
    assert ok(client, "/api/recording/session.yaml/fields") == {
        "event_names": ["MarketDataReceived", "OrderPlaced"],
        "sources": ["MarketDataAgent", "TradingBot"],
        "fields": ["items", "items.*.sku", "order", "order.id", "order.side", "price", "symbol"],
    }


def test_every_field_offered_can_be_filtered_on(client: FlaskClient, recordings: Path) -> None:
    """A key holding a dot is offered as the pattern that reaches it (paths split on dots)."""
    events = [
        RecordedEvent(0.0, "E", {"dot.key": 2, "n": {"a.b": "x"}}),
        RecordedEvent(1.0, "E", {}),
    ]
    write(recordings, "dots.json", events)
    fields = ok(client, "/api/recording/dots.json/fields")["fields"]
    assert fields == ["dot?key", "n", "n.a?b"]
    for path, value in (("dot?key", "2"), ("n.a?b", "x")):
        found = ok(client, f"/api/recording/dots.json/events?field={path}&value={value}")
        assert [e["index"] for e in found["events"]] == [0], path


def test_the_timeline_has_one_lane_per_source(client: FlaskClient) -> None:
    body = ok(client, "/api/recording/session.jsonl/timeline?buckets=3")
    assert body["duration_ms"] == 900.0
    assert [(lane["name"], lane["count"]) for lane in body["lanes"]] == [
        ("MarketDataAgent", 5),
        ("TradingBot", 4),
        ("", 1),
    ]
    assert body["lanes"][0]["histogram"] == [3, 2, 0]
    assert body["lanes"][1]["offsets_ms"] == [500.0, 600.0, 700.0, 800.0]


def test_the_timeline_by_event_name_zooms_to_a_range(client: FlaskClient) -> None:
    body = ok(
        client, "/api/recording/session.json/timeline?by=event_name&buckets=2&from_ms=0&to_ms=300"
    )
    assert {lane["name"]: lane["histogram"] for lane in body["lanes"]} == {
        "MarketDataReceived": [1, 1],
        "OrderPlaced": [1, 1],
    }


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("buckets=0", "'buckets'"),
        ("buckets=5000", "'buckets'"),
        ("buckets=x", "'buckets'"),
        ("by=colour", "'by'"),
        ("from_ms=9&to_ms=1", "after to_ms"),
    ],
)
def test_bad_timeline_queries_are_400(client: FlaskClient, query: str, word: str) -> None:
    refused(client, f"/api/recording/session.json/timeline?{query}", 400, word)


# --------------------------------------------------------------------------- create


def create(client: FlaskClient, **body: Any) -> Any:
    return client.post("/api/recording/create", json=body)


@pytest.mark.parametrize(
    ("source", "suffix"), [("session.json", ".json"), ("session.jsonl.gz", ".jsonl.gz")]
)
def test_create_saves_the_chosen_events(
    client: FlaskClient, recordings: Path, source: str, suffix: str
) -> None:
    response = create(
        client, source_filename=source, event_indices=[5, 1, 5], new_session_name="picked"
    )
    assert response.status_code == 201
    assert response.get_json() == {
        "filename": f"picked{suffix}",
        "session_name": "picked",
        "total_events": 2,
    }
    saved = read_cassette(recordings / f"picked{suffix}")
    assert saved.header.session_name == "picked"
    assert saved.header.start_time == "2025-10-17T10:00:00Z"
    assert saved.header.metadata["derived_from"] == source
    assert [e.to_dict() for e in saved.events] == [sample_events()[i].to_dict() for i in (1, 5)]
    listed = {r["filename"] for r in ok(client, "/api/recordings")["recordings"]}
    assert f"picked{suffix}" in listed


def test_create_by_time_range_rebases_to_zero(client: FlaskClient, recordings: Path) -> None:
    response = create(
        client, source_filename="session.jsonl", from_ms=300, to_ms=500, new_session_name="window"
    )
    assert response.get_json()["total_events"] == 3
    saved = read_cassette(recordings / "window.jsonl")
    assert [e.timestamp_offset_ms for e in saved.events] == [0.0, 100.0, 200.0]
    assert [e.event_data["price"] for e in saved.events] == [103, 104, 105]
    assert saved.header.start_time == "2025-10-17T10:00:00.300Z"  # moved with the offsets


def test_a_time_range_cut_at_any_millisecond_keeps_clean_offsets(
    client: FlaskClient, recordings: Path
) -> None:
    events = [RecordedEvent(60_000.307 + i * 0.001, "Tick", {"n": i}) for i in range(3)]
    write(recordings, "fine.json", events)
    create(client, source_filename="fine.json", from_ms=60_000, new_session_name="fine cut")
    saved = read_cassette(recordings / "fine_cut.json")
    assert [e.timestamp_offset_ms for e in saved.events] == [0.307, 0.308, 0.309]
    assert saved.header.start_time == "2025-10-17T10:01:00.000Z"


def test_create_sanitises_the_name_and_never_overwrites(
    client: FlaskClient, recordings: Path
) -> None:
    before = (recordings / "session.json").read_bytes()
    first = create(
        client, source_filename="session.json", event_indices=[0], new_session_name="../session"
    ).get_json()
    second = create(
        client, source_filename="session.json", event_indices=[1], new_session_name="session"
    ).get_json()
    assert (first["filename"], second["filename"]) == ("session_1.json", "session_2.json")
    assert first["session_name"] == "../session"
    assert (recordings / "session.json").read_bytes() == before
    assert not (recordings.parent / "session.json").exists()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, ("'source_filename' is required",)),
        (
            {"source_filename": "session.json", "event_indices": [0]},
            400,
            ("'new_session_name' is required",),
        ),
        (
            {"source_filename": 7, "event_indices": [0], "new_session_name": "x"},
            400,
            ("'source_filename'", "non-empty string"),
        ),
        (
            {"source_filename": "session.json", "event_indices": [0], "new_session_name": ""},
            400,
            ("'new_session_name'",),
        ),
        (
            {
                "source_filename": "session.json",
                "event_indices": [0],
                "new_session_name": "x" * 201,
            },
            400,
            ("at most 200",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x"},
            400,
            ("either 'event_indices'",),
        ),
        (
            {
                "source_filename": "session.json",
                "new_session_name": "x",
                "event_indices": [0],
                "from_ms": 1,
            },
            400,
            ("this request has both",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x"},
            400,
            ("this request has neither",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": []},
            400,
            ("non-empty list",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": "0,1"},
            400,
            ("non-empty list",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": [0, "1"]},
            400,
            ("whole numbers", "'1'"),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": [True]},
            400,
            ("whole numbers",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": [10]},
            400,
            ("out of range", "10 events"),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "event_indices": [-1]},
            400,
            ("out of range",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "from_ms": "a"},
            400,
            ("'from_ms'",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "from_ms": 5, "to_ms": 1},
            400,
            ("after to_ms",),
        ),
        (
            {"source_filename": "session.json", "new_session_name": "x", "from_ms": 10**6},
            400,
            ("the selection holds no events",),
        ),
        (
            {
                "source_filename": "../etc/passwd.json",
                "new_session_name": "x",
                "event_indices": [0],
            },
            400,
            ("invalid file name",),
        ),
        (
            {"source_filename": "nope.json", "new_session_name": "x", "event_indices": [0]},
            404,
            ("no recording named",),
        ),
        (
            {"source_filename": "broken.json", "new_session_name": "x", "event_indices": [0]},
            422,
            ("broken.json",),
        ),
    ],
)
def test_create_refuses_bad_bodies(
    client: FlaskClient, recordings: Path, body: dict[str, Any], status: int, words: tuple[str, ...]
) -> None:
    before = sorted(p.name for p in recordings.iterdir())
    refused(client, "/api/recording/create", status, *words, json=body)
    assert sorted(p.name for p in recordings.iterdir()) == before


# --------------------------------------------------------------------------- diff


def test_diff_of_the_same_recording_in_two_formats_is_equal(client: FlaskClient) -> None:
    body = ok(client, "/api/diff?a=session.json&b=session.jsonl.gz")
    assert body["equal"] is True
    assert body["differences"] == []
    assert body["a"]["filename"] == "session.json"
    assert body["b"]["event_summary"] == {"MarketDataReceived": 5, "OrderPlaced": 5}


def test_diff_lists_the_differences(client: FlaskClient, recordings: Path) -> None:
    events = sample_events()
    changed = [
        *events[:2],
        RecordedEvent(
            200.0, events[2].event_name, {**events[2].event_data, "price": 999}, events[2].source
        ),
        *events[3:9],
    ]
    write(recordings, "changed.json", changed)
    body = ok(client, "/api/diff?a=session.json&b=changed.json")
    assert body["equal"] is False
    kinds = sorted(d["kind"] for d in body["differences"])
    assert kinds == ["changed", "missing"]
    change = next(d for d in body["differences"] if d["kind"] == "changed")
    assert any("price" in line for line in change["field_diffs"])
    assert body["total_differences"] == 2
    assert body["counts"] == {"changed": 1, "missing": 1}
    assert body["truncated"] is False


def test_diff_counts_cover_differences_past_the_listed_ones(
    client: FlaskClient, recordings: Path
) -> None:
    many = [RecordedEvent(float(i), "Tick", {"n": i}, "feed") for i in range(1500)]
    write(recordings, "many.json", many)
    write(recordings, "none.json", [])
    body = ok(client, "/api/diff?a=many.json&b=none.json")
    assert (len(body["differences"]), body["total_differences"]) == (1000, 1500)
    assert body["counts"] == {"missing": 1500}
    assert body["truncated"] is True


def test_diff_ignores_fields(client: FlaskClient, recordings: Path) -> None:
    events = sample_events()
    write(
        recordings,
        "repriced.json",
        [
            RecordedEvent(
                e.timestamp_offset_ms, e.event_name, {**e.event_data, "price": 0}, e.source
            )
            for e in events
        ],
    )
    assert not ok(client, "/api/diff?a=session.json&b=repriced.json")["equal"]
    assert ok(client, "/api/diff?a=session.json&b=repriced.json&ignore_field=price")["equal"]


@pytest.mark.parametrize(
    ("query", "status", "word"),
    [
        ("b=session.json", 400, "'a'"),
        ("a=session.json", 400, "'b'"),
        ("a=session.json&b=", 400, "'b'"),
        ("a=session.json&b=nope.json", 404, "nope.json"),
        ("a=../x.json&b=session.json", 400, "invalid file name"),
        ("a=broken.json&b=session.json", 422, "broken.json"),
        ("a=session.json&b=session.json&ignore_field=a..b", 400, "empty segment"),
    ],
)
def test_bad_diffs_are_refused(client: FlaskClient, query: str, status: int, word: str) -> None:
    refused(client, f"/api/diff?{query}", status, word)
