"""The REST API under attack: stateful schemathesis, a path-traversal corpus on every
file-name input (watched with an audit hook: nothing outside the folder is opened or
written), oversized bodies, and many threads calling it during a replay. Never a 5xx."""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import START, any_text, fuzz, json_values

from pytest_eventrecorder import Cassette, EventRecorderConfig, RecordedEvent, write_cassette
from pytest_eventrecorder.server import EventRecorderServer, create_app
from pytest_eventrecorder.server.api import MAX_BODY_BYTES

CANARY = "SECRET-CANARY"
SYSTEM_FILES = ("/etc/passwd", "/etc/shadow", "/etc/hostname")


# --------------------------------------------------------------------------- file access watch


class Watch:
    """Every file the process opens, lists or changes while active (all threads), via
    ``sys.addaudithook``; ``escapes()`` are those inside ``guarded`` but outside ``allowed``."""

    EVENTS = frozenset(
        (
            "open",
            "os.listdir",
            "os.scandir",
            "os.rename",
            "os.link",
            "os.symlink",
            "os.remove",
            "os.rmdir",
            "os.mkdir",
            "os.chmod",
            "os.truncate",
            "shutil.copyfile",
            "tempfile.mkstemp",
        )
    )

    def __init__(self) -> None:
        self.active = False
        self.touched: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in self.EVENTS:
            return
        for arg in args[:2]:
            if isinstance(arg, str | bytes | os.PathLike):
                with self._lock:
                    self.touched.append((event, os.fsdecode(arg)))

    def __enter__(self) -> Watch:
        self.touched.clear()
        self.active = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.active = False

    def escapes(self, guarded: Path, allowed: Path) -> list[tuple[str, str]]:
        found = []
        for event, name in self.touched:
            real = Path(os.path.realpath(name))
            inside_guard = real.is_relative_to(guarded) or str(real) in SYSTEM_FILES
            if inside_guard and not real.is_relative_to(allowed):
                found.append((event, name))
        return found


WATCH = Watch()
sys.addaudithook(WATCH.hook)  # audit hooks cannot be removed: this one idles when inactive


@pytest.fixture
def watch() -> Iterator[Watch]:
    """The watch, to activate (``with watch:``) around the requests only."""
    yield WATCH
    WATCH.active = False


# --------------------------------------------------------------------------- the app


def sample(session: str = "sample", count: int = 20, data: str = "ok") -> Cassette:
    events = [RecordedEvent(i * 2.0, f"E{i % 3}", {"i": i, "v": data}, "src") for i in range(count)]
    return Cassette.build(session, events, start_time=START)


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``recordings/`` with cassettes and links pointing out; ``outside/`` with secrets."""
    recordings, outside = tmp_path / "recordings", tmp_path / "outside"
    recordings.mkdir()
    outside.mkdir()
    for name in ("session.json", "session.jsonl", "other.yaml"):
        write_cassette(recordings / name, sample())
    secret = sample(CANARY, data=CANARY)
    for folder in (outside, tmp_path):
        write_cassette(folder / "secret.json", secret)
        write_cassette(folder / "secret.jsonl", secret)
    (recordings / "link.json").symlink_to(outside / "secret.json")
    (recordings / "dirlink").symlink_to(outside, target_is_directory=True)
    (recordings / "abs.json").symlink_to("/etc/passwd")
    return recordings, outside


@pytest.fixture
def app(layout: tuple[Path, Path]) -> Iterator[Flask]:
    app = create_app(EventRecorderConfig(recordings_dir=layout[0]), testing=True)
    app.config["EVENTRECORDER_STREAM_INTERVAL"] = 0.002
    yield app
    app.extensions["eventrecorder"].replay.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def no_5xx(response: Any, what: object) -> None:
    assert response.status_code < 500, (what, response.get_data(as_text=True)[:300])
    if response.status_code >= 400 and response.mimetype == "application/json":
        assert "error" in response.get_json()


# --------------------------------------------------------------------------- path traversal

TRAVERSAL = [
    "..",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "..%2fsecret.json",
    "..%2Fsecret.json",
    "%2e%2e%2fsecret.json",
    "%2e%2e/secret.json",
    "..%252fsecret.json",
    "%252e%252e%252fsecret.json",
    "%25252e%25252e%25252fsecret.json",
    "..%5csecret.json",
    "..%255csecret.json",
    "%5c..%5csecret.json",
    "..\\secret.json",
    "....%2f%2fsecret.json",
    "..%c0%afsecret.json",
    "%c0%ae%c0%ae%2fsecret.json",
    "%e2%80%a5%2fsecret.json",
    "%ef%bc%8e%ef%bc%8e%ef%bc%8fsecret.json",
    "..%e2%88%95secret.json",
    "%2fetc%2fpasswd",
    "%2F%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "C:%5csecret.json",
    "file:%2f%2f%2fetc%2fpasswd",
    "secret.json%00",
    "secret.json%00.json",
    "%00",
    "session.json%00..%2fsecret.json",
    "session.json%2f..%2f..%2fsecret.json",
    "link.json",
    "abs.json",
    "dirlink%2fsecret.json",
    "dirlink",
    ".secret.json",
    "secret.json%20",
    "..%20%2fsecret.json",
    "%0a..%2fsecret.json",
    quote("../secret.jsonl", safe=""),
    quote(quote("../../outside/secret.json", safe=""), safe=""),
]

ROUTES = [
    ("GET", "/api/recording/{}"),
    ("GET", "/api/recording/{}/events?q=SECRET"),
    ("GET", "/api/recording/{}/fields"),
    ("GET", "/api/recording/{}/timeline"),
    ("GET", "/api/diff?a=session.json&b={}"),
    ("GET", "/api/diff?a={}&b=session.json"),
    ("POST", "/api/replay/start/{}"),
    ("GET", "/recording/{}"),
]


def attempts(name: str) -> Iterator[tuple[str, str, Any]]:
    """Each way a file name reaches the API: in the path, the query, and a JSON body."""
    for method, route in ROUTES:
        yield method, route.format(name), None
    for source in {name, unquote(name), unquote(unquote(name))}:
        body = {"source_filename": source, "event_indices": [0], "new_session_name": "copy"}
        yield "POST", "/api/recording/create", body


@pytest.mark.parametrize("name", TRAVERSAL)
def test_no_file_name_reaches_outside_the_folder(
    client: FlaskClient, layout: tuple[Path, Path], watch: Watch, name: str
) -> None:
    recordings, _ = layout
    before = sorted(recordings.parent.rglob("*"))
    with watch:
        responses = [
            (url, client.open(url, method=m, json=body)) for m, url, body in attempts(name)
        ]
        client.post("/api/replay/stop")
    for url, response in responses:
        no_5xx(response, url)
        assert CANARY not in response.get_data(as_text=True), url
        if url.startswith("/api/"):
            assert 400 <= response.status_code < 500, (url, response.status_code)
    assert watch.escapes(recordings.parent, recordings) == []
    assert sorted(recordings.parent.rglob("*")) == before


def test_the_watch_sees_a_file_opened_outside_the_folder(
    layout: tuple[Path, Path], watch: Watch
) -> None:
    """The guard above can fail: reading the secret through the symlink is caught."""
    recordings, _ = layout
    with watch:
        (recordings / "link.json").read_bytes()
        (recordings / "session.json").read_bytes()
    assert [event for event, _ in watch.escapes(recordings.parent, recordings)] == ["open"]


HOSTILE_SESSION_NAMES = [
    "../../escape",
    "..\\..\\escape",
    "/tmp/escape",
    str(Path("/tmp") / "escape"),
    "a/../../escape",
    ".hidden",
    "..",
    "%2e%2e%2fescape",
    "escape\x00.json",
    "CON",
    "x" * 200,
    "naïve ünïcode \u2215 slash",  # a division slash looks like "/"
    "dirlink/escape",
]


@pytest.mark.parametrize("session", HOSTILE_SESSION_NAMES)
def test_new_recordings_are_written_inside_the_folder_only(
    client: FlaskClient, layout: tuple[Path, Path], watch: Watch, session: str
) -> None:
    recordings, _ = layout
    made = []
    copy = {"source_filename": "session.json", "event_indices": [0], "new_session_name": session}
    with watch:
        response = client.post("/api/record/start", json={"session_name": session})
        no_5xx(response, session)
        if response.status_code == 200:
            event = {"event_name": "E", "event_data": 1}
            assert client.post("/api/record/event", json=event).status_code == 200
            stopped = client.post("/api/record/stop")
            assert stopped.status_code == 200
            made.append(stopped.get_json()["filename"])
        created = client.post("/api/recording/create", json=copy)
        no_5xx(created, session)
        if created.status_code == 201:
            made.append(created.get_json()["filename"])
    for filename in made:
        path = recordings / filename
        assert path.parent == recordings
        assert path.is_file()
        assert not path.is_symlink()
        assert not filename.startswith(".")
    assert watch.escapes(recordings.parent, recordings) == []
    assert sorted(p.name for p in (recordings.parent / "outside").iterdir()) == [
        "secret.json",
        "secret.jsonl",
    ]


# --------------------------------------------------------------------------- oversized bodies

POSTS = [
    "/api/recording/create",
    "/api/record/start",
    "/api/record/event",
    "/api/record/stop",
    "/api/replay/start/session.json",
    "/api/replay/pause",
    "/api/replay/stop",
    "/api/replay/speed",
]


def padded(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    head, tail = b'{"event_name": "E", "event_data": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("url", POSTS)
def test_a_body_over_the_limit_is_413_on_every_post(client: FlaskClient, url: str) -> None:
    response = client.post(url, data=padded(MAX_BODY_BYTES + 1), content_type="application/json")
    assert response.status_code == 413
    assert "larger than" in response.get_json()["error"]


@pytest.fixture
def served(layout: tuple[Path, Path]) -> Iterator[tuple[str, int]]:
    """The dashboard on a real HTTP server (the test client cannot stream a chunked body)."""
    server = EventRecorderServer(EventRecorderConfig(recordings_dir=layout[0], port=0))
    url = urlsplit(server.start())
    yield url.hostname or "127.0.0.1", url.port or 0
    server.shutdown()


@pytest.mark.parametrize(
    "body",
    [padded(4 * MAX_BODY_BYTES), b'{"speed": 2}' + b" " * (2 * MAX_BODY_BYTES)],
    ids=["too-big", "valid-json-then-padding"],
)
def test_a_chunked_body_over_the_limit_is_413_too(served: tuple[str, int], body: bytes) -> None:
    """A chunked upload has no Content-Length; Werkzeug cuts it off at the limit, which
    must not turn into a 400 about broken JSON, nor accept what fits before the cut."""
    connection = http.client.HTTPConnection(*served, timeout=30)
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    connection.request(
        "POST",
        "/api/replay/speed",
        body=chunks,
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than" in json.loads(response.read())["error"]
    connection.close()


def test_a_body_just_under_the_limit_is_read(client: FlaskClient) -> None:
    assert client.post("/api/record/start", json={"session_name": "big"}).status_code == 200
    response = client.post(
        "/api/record/event", data=padded(MAX_BODY_BYTES), content_type="application/json"
    )
    assert response.status_code == 200
    assert client.post("/api/record/stop").status_code == 200


# --------------------------------------------------------------------------- concurrency


def test_many_threads_calling_the_api_during_a_replay_never_get_a_5xx(
    app: Flask, layout: tuple[Path, Path]
) -> None:
    recordings, _ = layout
    write_cassette(recordings / "long.jsonl", sample("long", count=3000))
    calls = [
        ("GET", "/api/replay/status", None),
        ("GET", "/api/replay/stream", None),
        ("POST", "/api/replay/pause", None),
        ("POST", "/api/replay/speed", {"speed": 50}),
        ("POST", "/api/replay/speed", {"speed": 0.5}),
        ("POST", "/api/replay/start/long.jsonl", {"speed": 20}),
        ("POST", "/api/replay/start/session.json", {"speed": 1000}),
        ("POST", "/api/replay/stop", None),
        ("GET", "/api/recording/long.jsonl/events?limit=50&q=E1", None),
        ("GET", "/api/recording/long.jsonl/timeline?buckets=50", None),
        ("GET", "/api/recordings", None),
        ("POST", "/api/record/start", {"session_name": "live"}),
        ("POST", "/api/record/event", {"event_name": "E", "event_data": {"x": 1}}),
        ("POST", "/api/record/stop", None),
        ("GET", "/api/diff?a=long.jsonl&b=session.json", None),
    ]
    failures: list[str] = []
    app.test_client().post("/api/replay/start/long.jsonl", json={"speed": 20})

    def hammer(seed: int) -> None:
        rng, client = random.Random(seed), app.test_client()
        for _ in range(40):
            method, url, body = rng.choice(calls)
            try:
                response = client.open(url, method=method, json=body)
                if response.status_code >= 500:
                    failures.append(f"{method} {url}: {response.status_code}")
                response.get_data()  # drains a stream to its end
            except Exception as exc:  # the test client re-raises what the app let escape
                failures.append(f"{method} {url}: {exc!r}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert failures == []
    status = app.test_client().post("/api/replay/stop").get_json()
    assert status["status"] in ("idle", "stopped", "finished")
    assert status["error"] is None


# --------------------------------------------------------------------------- schemathesis


def test_stateful_api_workflows_never_get_a_5xx(app: Flask) -> None:
    """Schemathesis chains calls along the links it infers (a recording, then its events,
    fields, timeline...); real file names are fed in so the chains get past a 404."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    names = ("session.json", "session.jsonl", "other.yaml", "link.json")

    calls: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any, **kwargs: Any) -> None:
            params = case.path_parameters or {}
            if "filename" in params:
                params["filename"] = names[len(str(params["filename"])) % len(names)]

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            calls.append(f"{case.method} {case.formatted_path} {response.status_code}")

    Workflow.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert len(calls) >= 30
    assert any(" 200" in call for call in calls)


# --------------------------------------------------------------------------- arbitrary requests

BODY_KEYS = (
    "session_name",
    "metadata",
    "event_name",
    "event_data",
    "source",
    "source_filename",
    "event_indices",
    "new_session_name",
    "from_ms",
    "to_ms",
    "speed",
)
QUERY_KEYS = ("event_name", "source", "limit", "offset", "q", "field", "value", "from_ms")
QUERY_KEYS += ("to_ms", "buckets", "by", "sort", "order", "a", "b", "ignore_field")
GETS = [
    "/api/recordings",
    "/api/recording/session.jsonl/events",
    "/api/recording/other.yaml/events",
    "/api/recording/session.json/timeline",
    "/api/diff",
]
_scalars = st.none() | st.booleans() | st.integers(-(2**64), 2**64) | st.floats() | any_text
bodies = st.dictionaries(st.sampled_from(BODY_KEYS), json_values | _scalars, max_size=6)
queries = st.lists(
    st.tuples(
        st.sampled_from(QUERY_KEYS),
        any_text.map(lambda t: t.encode("utf-8", "surrogatepass").decode("latin-1"))
        | st.sampled_from(["0", "-1", "1e309", "nan", "inf", "99999999999999999999", "a.b.*"]),
    ),
    max_size=5,
)


@fuzz(300)
@given(url=st.sampled_from(POSTS), body=bodies)
def test_arbitrary_json_bodies_never_get_a_5xx(app: Flask, url: str, body: dict[str, Any]) -> None:
    client = app.test_client()
    response = client.post(url, data=json.dumps(body), content_type="application/json")
    no_5xx(response, (url, body))
    client.post("/api/replay/stop")


@fuzz(300)
@given(url=st.sampled_from(GETS), query=queries)
def test_arbitrary_query_strings_never_get_a_5xx(
    app: Flask, url: str, query: list[tuple[str, str]]
) -> None:
    response = app.test_client().get(url, query_string=query)
    no_5xx(response, (url, query))
