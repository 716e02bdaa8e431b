"""The dashboard server against hostile numbers, gzip bombs and memory pressure: a bad file is
a 422 naming it (and an unreadable row in the list), a bad request is a 400, the API never
answers with invalid JSON, every cache is bounded by memory, and a small request never waits
for a big file's index to be built."""

from __future__ import annotations

import gzip
import json
import random
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pytest_eventrecorder import Cassette, EventRecorderConfig, RecordedEvent, write_cassette
from pytest_eventrecorder.server import create_app
from pytest_eventrecorder.server import index as index_module
from pytest_eventrecorder.server import lines as lines_module
from pytest_eventrecorder.server import store as store_module
from pytest_eventrecorder.server.api import LiveRecording
from pytest_eventrecorder.server.store import RecordingStore

START = "2025-01-02T03:04:05.678Z"
HEADER = {"session_name": "s", "start_time": START}
HUGE = int("9" * 400)
PER_FILE = ("", "/events", "/fields", "/timeline")


def _refuse_constant(name: str) -> NoReturn:
    raise AssertionError(f"the API answered with {name}, which is not JSON")


def strict_json(response: Any) -> Any:
    """The response body parsed as JSON proper: NaN and Infinity fail the test."""
    return json.loads(response.get_data(), parse_constant=_refuse_constant)


def jsonl(path: Path, events: list[dict[str, Any]], header: dict[str, Any] = HEADER) -> Path:
    lines = [json.dumps(row) for row in [header, *events]]
    path.write_text("\n".join(lines) + "\n")
    return path


def event(offset: object = 1, data: object = None, name: str = "E") -> dict[str, Any]:
    return {"timestamp_offset_ms": offset, "event_name": name, "event_data": data}


def sample(count: int = 20, names: int = 3) -> Cassette:
    events = [RecordedEvent(i * 2.0, f"E{i % names}", {"i": i}, f"s{i % 2}") for i in range(count)]
    return Cassette.build("sample", events, start_time=START)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    write_cassette(recordings / "good.jsonl", sample())
    return recordings


@pytest.fixture
def app(folder: Path) -> Iterator[Flask]:
    app = create_app(EventRecorderConfig(recordings_dir=folder), testing=True)
    yield app
    app.extensions["eventrecorder"].replay.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --------------------------------------------------------------------------- item 5: huge ints


def huge_number_files(folder: Path) -> dict[str, str]:
    """File name -> the field its huge integer sits in."""
    jsonl(folder / "offset.jsonl", [event(HUGE)])
    jsonl(folder / "duration.jsonl", [event()], {**HEADER, "duration_ms": HUGE})
    (folder / "offset.json").write_text(json.dumps({**HEADER, "events": [event(HUGE)]}))
    (folder / "duration.json").write_text(json.dumps({**HEADER, "duration_ms": HUGE, "events": []}))
    with gzip.open(folder / "offset.jsonl.gz", "wt") as out:
        out.write(json.dumps(HEADER) + "\n" + json.dumps(event(HUGE)) + "\n")
    return {
        "offset.jsonl": "timestamp_offset_ms",
        "duration.jsonl": "duration_ms",
        "offset.json": "timestamp_offset_ms",
        "duration.json": "duration_ms",
        "offset.jsonl.gz": "timestamp_offset_ms",
    }


def test_a_huge_integer_is_a_422_naming_file_and_field(folder: Path, client: FlaskClient) -> None:
    for name, field in huge_number_files(folder).items():
        for suffix in PER_FILE:
            response = client.get(f"/api/recording/{name}{suffix}")
            assert response.status_code == 422, (name, suffix, response.get_data())
            message = strict_json(response)["error"]
            assert name in message, message
            assert field in message, message


def test_the_list_shows_a_file_with_a_huge_integer_as_unreadable(
    folder: Path, client: FlaskClient
) -> None:
    bad = huge_number_files(folder)
    for sort in ("date", "duration", "events"):
        response = client.get(f"/api/recordings?sort={sort}")
        assert response.status_code == 200, response.get_data()
        rows = {row["filename"]: row for row in strict_json(response)["recordings"]}
        assert "error" not in rows["good.jsonl"]
        for name in ("duration.jsonl", "duration.json"):
            assert name in rows[name]["error"]
            assert bad[name] in rows[name]["error"]


# --------------------------------------------------------------------------- item 6: bodies


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/recording/create", {"from_ms": HUGE}, "from_ms"),
        ("/api/recording/create", {"to_ms": HUGE}, "to_ms"),
        ("/api/recording/create", {"from_ms": 0, "to_ms": HUGE}, "to_ms"),
        ("/api/replay/start/good.jsonl", {"speed": HUGE}, "speed"),
        ("/api/replay/speed", {"speed": HUGE}, "speed"),
        ("/api/replay/speed", {"speed": -HUGE}, "speed"),
    ],
)
def test_huge_integers_in_a_body_are_a_400_naming_the_field(
    client: FlaskClient, url: str, body: dict[str, Any], field: str
) -> None:
    base = {"source_filename": "good.jsonl", "new_session_name": "cut"}
    response = client.post(url, json={**base, **body})
    assert response.status_code == 400, response.get_data()
    assert field in strict_json(response)["error"]


# --------------------------------------------------------------------------- item 7: infinity


def infinite_files(folder: Path) -> list[str]:
    text = json.dumps(event(data={"x": 12345.5})).replace("12345.5", "1e400")
    (folder / "inf.jsonl").write_text(json.dumps(HEADER) + "\n" + text + "\n")
    with gzip.open(folder / "inf.jsonl.gz", "wt") as out:
        out.write(json.dumps(HEADER) + "\n" + text + "\n")
    return ["inf.jsonl", "inf.jsonl.gz"]


def test_infinity_in_a_stream_is_a_422_at_read_time(folder: Path, client: FlaskClient) -> None:
    for name in infinite_files(folder):
        for suffix in PER_FILE:
            response = client.get(f"/api/recording/{name}{suffix}")
            assert response.status_code == 422, (name, suffix, response.get_data())
            message = strict_json(response)["error"]
            assert name in message, message
            assert "line 2" in message, message


def test_the_api_never_answers_with_invalid_json(
    folder: Path, app: Flask, client: FlaskClient
) -> None:
    # Defence in depth: even an event the reader let through is never sent as Infinity.
    infinite = RecordedEvent(1.0, "E", {"x": float("inf")})
    (folder / "inf.json").write_text(
        json.dumps({**HEADER, "events": [event(data={"x": 12345.5})]}).replace("12345.5", "1e400")
    )
    store = app.extensions["eventrecorder"].store
    index = store.open("good.jsonl")
    index._read = lambda indices: (infinite for _ in indices)
    response = client.get("/api/recording/good.jsonl/events")
    assert response.status_code == 422, response.get_data()
    assert "Infinity" in strict_json(response)["error"]
    for response in (
        client.get("/api/recording/inf.json/events"),
        client.post(
            "/api/recording/create",
            json={"source_filename": "inf.json", "new_session_name": "x", "event_indices": [0]},
        ),
    ):
        assert response.status_code in (200, 201, 422), response.get_data()
        strict_json(response)


# --------------------------------------------------------------------------- items 12, 13: gzip


def write_gz(path: Path, count: int) -> list[RecordedEvent]:
    events = [
        RecordedEvent(i * 0.5, f"E{i % 7}", {"i": i, "pad": "p" * (i % 50)}, f"s{i % 3}")
        for i in range(count)
    ]
    write_cassette(path, Cassette.build("big", events, start_time=START))
    return events


def test_a_jsonl_gz_is_streamed_not_held_whole(folder: Path) -> None:
    events = write_gz(folder / "big.jsonl.gz", 40_000)
    store = RecordingStore(folder)
    tracemalloc.start()
    try:
        index = store.open("big.jsonl.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Held whole, 40,000 parsed events take over 40 MB; an index of line offsets a few.
    assert peak < 20_000_000, f"peak {peak:,} bytes while indexing"
    assert index.replay_source() == index.path
    rng = random.Random(3)
    for start in [0, 39_990, *rng.sample(range(40_000), 20)]:
        chosen = list(range(start, min(start + 10, 40_000)))
        assert list(index.events_at(chosen)) == [events[i] for i in chosen]
    assert index.cassette().events == tuple(events)


def blank_bomb(path: Path, inflated: int) -> Path:
    header = (json.dumps(HEADER) + "\n").encode()
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(header)
        block = b"\n" * (1 << 20)
        for _ in range(inflated >> 20):
            out.write(block)
    return path


def line_bomb(path: Path, lines: int, length: int) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write((json.dumps(HEADER) + "\n").encode())
        for i in range(lines):
            out.write(b'{"timestamp_offset_ms": %d, "event_name": "E", "event_data": "' % i)
            out.write(b"x" * length + b'"}\n')
    return path


def test_a_gzip_of_blank_lines_is_refused_everywhere(folder: Path, client: FlaskClient) -> None:
    blank_bomb(folder / "blank.jsonl.gz", 64 << 20)  # 64 Mi blank lines in about 70 KB
    rows = {r["filename"]: r for r in strict_json(client.get("/api/recordings"))["recordings"]}
    assert "blank line" in rows["blank.jsonl.gz"]["error"]
    for suffix in PER_FILE:
        response = client.get(f"/api/recording/blank.jsonl.gz{suffix}")
        assert response.status_code == 422, response.get_data()
        message = strict_json(response)["error"]
        assert "blank.jsonl.gz" in message, message
        assert "blank line" in message, message


def test_a_gzip_inflating_past_the_cap_is_refused(
    folder: Path, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines_module, "MIN_INFLATE_BYTES", 8 << 20)  # the real floor: 256 MiB
    line_bomb(folder / "lines.jsonl.gz", 12, 1 << 20)  # 12 MiB in about 12 KB
    rows = {r["filename"]: r for r in strict_json(client.get("/api/recordings"))["recordings"]}
    assert "gzip bomb" in rows["lines.jsonl.gz"]["error"]
    response = client.get("/api/recording/lines.jsonl.gz/events")
    assert response.status_code == 422, response.get_data()
    assert "gzip bomb" in strict_json(response)["error"]


# --------------------------------------------------------------------------- item 9: timelines


def test_timelines_are_cached_within_a_memory_budget(folder: Path) -> None:
    write_cassette(folder / "lanes.jsonl", sample(4000, names=20))
    store = RecordingStore(folder, results_budget=2_000_000)
    index = store.open("lanes.jsonl")
    for zoom in range(40):
        index.timeline("event_name", 500, float(zoom), 8000.0 - zoom)
        assert store.results.nbytes <= 2_000_000
    assert 2 <= len(store.results) < 40
    latest = index.timeline("event_name", 500, 39.0, 7961.0)
    assert index.timeline("event_name", 500, 39.0, 7961.0) is latest


def test_a_timeline_is_counted_at_least_at_the_memory_it_takes(folder: Path) -> None:
    write_cassette(folder / "lanes.jsonl", sample(4000, names=200))
    store = RecordingStore(folder)
    index = store.open("lanes.jsonl")
    tracemalloc.start()
    try:
        index.timeline("event_name", 2000, 1.0, 7999.0)
        taken = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert store.results.nbytes >= taken * 0.8, (store.results.nbytes, taken)


def test_filter_results_are_cached_within_a_memory_budget(folder: Path) -> None:
    write_cassette(folder / "many.jsonl", sample(20_000))
    store = RecordingStore(folder, results_budget=300_000)
    index = store.open("many.jsonl")
    for step in range(30):
        index.matching(store_module.EventQuery(text=f"{step}"))
        assert store.results.nbytes <= 300_000


# --------------------------------------------------------------------------- item 14: indexes


def test_indexes_are_kept_within_a_memory_budget(folder: Path) -> None:
    for i in range(12):
        write_cassette(folder / f"f{i}.jsonl", sample(2000))
    one = RecordingStore(folder).open("f0.jsonl").nbytes
    store = RecordingStore(folder, index_budget=int(one * 4.5))
    first = store.open("f0.jsonl")
    for i in range(12):
        store.open(f"f{i}.jsonl")
        assert store.indexes.nbytes <= one * 4.5
    assert len(store.indexes) == 4
    assert store.open("f0.jsonl") is not first  # evicted, rebuilt


def test_a_small_file_is_served_while_a_big_one_is_being_indexed(
    folder: Path, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_cassette(folder / "big.jsonl", sample(500))
    building, release = threading.Event(), threading.Event()
    real_build = index_module.build_index
    builds: list[str] = []

    def held_build(name: str, *args: Any, **kwargs: Any) -> Any:
        builds.append(name)
        if name == "big.jsonl":
            building.set()
            assert release.wait(30), "the test never released the big build"
        return real_build(name, *args, **kwargs)

    monkeypatch.setattr(store_module, "build_index", held_build)
    answers: list[int] = []

    def fetch_big() -> None:
        answers.append(client.get("/api/recording/big.jsonl/events").status_code)

    waiting = [threading.Thread(target=fetch_big) for _ in range(3)]
    for thread in waiting:
        thread.start()
    try:
        assert building.wait(30)
        small = client.get("/api/recording/good.jsonl/events")  # would hang behind one lock
        assert small.status_code == 200
        assert strict_json(small)["total"] == 20
        assert answers == []
    finally:
        release.set()
        for thread in waiting:
            thread.join(30)
    assert answers == [200, 200, 200]
    assert builds.count("big.jsonl") == 1  # the waiters shared the one build


# --------------------------------------------------------------------------- item 11: live cap


def test_the_live_recording_cap_counts_memory_not_bytes_posted(
    app: Flask, client: FlaskClient
) -> None:
    limit = 4_000_000
    dashboard = app.extensions["eventrecorder"]
    dashboard.live = LiveRecording(dashboard.store, limit_bytes=limit)
    client.post("/api/record/start", json={"session_name": "nested"})
    body = json.dumps({"event_name": "E", "event_data": [[]] * 30_000})  # 120 KB: ~2 MB kept
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        statuses = [
            client.post("/api/record/event", data=body, content_type="application/json").status_code
            for _ in range(20)
        ]
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert 409 in statuses, statuses
    assert statuses.index(409) <= 3  # 20 x 120 KB posted would pass a cap on posted bytes
    assert grown < limit * 1.5, f"grew {grown:,} bytes under a {limit:,}-byte cap"
    stopped = client.post("/api/record/stop").get_json()
    assert stopped["total_events"] == statuses.index(409)


def test_an_index_bigger_than_the_budget_is_kept_alone(folder: Path) -> None:
    write_cassette(folder / "other.jsonl", sample(50))
    store = RecordingStore(folder, index_budget=100)  # every index is bigger
    store.open("other.jsonl")
    first = store.open("good.jsonl")
    assert store.open("good.jsonl") is first  # not built again for every request
    assert len(store.indexes) == 1
