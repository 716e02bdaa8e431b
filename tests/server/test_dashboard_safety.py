"""Safe by default: tokens, host and origin checks, path traversal, and JSON-only 4xx errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pytest_eventrecorder import EventRecorderConfig
from pytest_eventrecorder.server import create_app

TOKEN = "s3cret-token"

GET_ROUTES = [
    "/api/recordings",
    "/api/recording/session.json",
    "/api/recording/session.json/events",
    "/api/recording/session.json/fields",
    "/api/recording/session.json/timeline",
    "/api/record/status",
    "/api/replay/status",
    "/api/replay/stream",
    "/api/diff?a=session.json&b=session.json",
    "/api/openapi.json",
]
POST_ROUTES = [
    (
        "/api/recording/create",
        {"source_filename": "session.json", "event_indices": [0], "new_session_name": "x"},
    ),
    ("/api/record/start", {"session_name": "s"}),
    ("/api/record/event", {"event_name": "E", "event_data": 1}),
    ("/api/record/stop", None),
    ("/api/replay/start/session.json", {"speed": 0.01}),  # still playing at the pause
    ("/api/replay/pause", None),
    ("/api/replay/stop", None),
    ("/api/replay/speed", {"speed": 2}),
]


@pytest.fixture
def guarded(recordings: Path) -> Iterator[Flask]:
    app = create_app(EventRecorderConfig(recordings_dir=recordings), token=TOKEN, testing=True)
    yield app
    app.extensions["eventrecorder"].replay.stop()


def call(client: FlaskClient, method: str, url: str, body: Any = None, **kw: Any) -> Any:
    if method == "GET":
        return client.get(url, **kw)
    return client.post(url, json=body, **kw) if body is not None else client.post(url, **kw)


ALL = [("GET", url, None) for url in GET_ROUTES] + [("POST", u, b) for u, b in POST_ROUTES]


# --------------------------------------------------------------------------- token


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
    ids=["none", "wrong", "no-scheme", "basic", "longer"],
)
def test_with_a_token_every_api_call_needs_it(guarded: Flask, headers: dict[str, str]) -> None:
    client = guarded.test_client()
    for method, url, body in ALL:
        response = call(client, method, url, body, headers=headers)
        assert response.status_code == 401, url
        assert "Bearer" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_right_token_opens_every_call(guarded: Flask) -> None:
    client = guarded.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for method, url, body in ALL:  # in order: record start/event/stop, replay start/pause/...
        response = call(client, method, url, body, headers=auth)
        assert response.status_code in (200, 201), (url, response.get_data(as_text=True))


def test_the_stream_also_takes_the_token_in_the_query(guarded: Flask) -> None:
    client = guarded.test_client()
    assert client.get(f"/api/replay/stream?token={TOKEN}").status_code == 200
    assert client.get("/api/replay/stream?token=nope").status_code == 401
    assert client.get(f"/api/replay/status?token={TOKEN}").status_code == 401


def test_the_openapi_document_requires_the_bearer_scheme(guarded: Flask) -> None:
    doc = (
        guarded.test_client()
        .get("/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
        .get_json()
    )
    assert doc["security"] == [{"bearerAuth": []}]


def test_an_empty_token_is_refused(recordings: Path) -> None:
    with pytest.raises(ValueError, match="non-empty string"):
        create_app(EventRecorderConfig(recordings_dir=recordings), token=" ")


def test_the_app_config_carries_the_token_and_config(guarded: Flask, recordings: Path) -> None:
    assert guarded.config["EVENTRECORDER_TOKEN"] == TOKEN
    assert guarded.config["EVENTRECORDER_CONFIG"].recordings_dir == recordings
    assert guarded.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert not guarded.debug


# --------------------------------------------------------------------------- host and origin


@pytest.mark.parametrize("host", ["evil.example:5556", "192.168.1.5:5556", "evil.localhost.com"])
def test_without_a_token_only_loopback_names_are_served(client: FlaskClient, host: str) -> None:
    response = client.get("/api/recordings", headers={"Host": host})
    assert response.status_code == 403
    assert "only answers requests addressed to localhost" in response.get_json()["error"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5556", "127.0.0.1:5556", "[::1]:5556", "app.localhost"]
)
def test_loopback_names_are_served(client: FlaskClient, host: str) -> None:
    assert client.get("/api/recordings", headers={"Host": host}).status_code == 200


def test_with_a_token_any_host_name_is_served(guarded: Flask) -> None:
    response = guarded.test_client().get(
        "/api/recordings", headers={"Host": "dashboard.example", "Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost:9999"])
def test_cross_origin_posts_are_refused(client: FlaskClient, origin: str) -> None:
    response = client.post(
        "/api/record/start", json={"session_name": "s"}, headers={"Origin": origin}
    )
    assert response.status_code == 403
    assert "cross-origin" in response.get_json()["error"]
    assert not client.get("/api/record/status").get_json()["recording"]


def test_same_origin_posts_are_served(client: FlaskClient) -> None:
    response = client.post(
        "/api/record/start", json={"session_name": "s"}, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 200


# --------------------------------------------------------------------------- path traversal


TRAVERSAL = [
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2fsecret.json",
    "%252e%252e%252fsecret.json",
    "..%5csecret.json",
    "%5c..%5csecret.json",
    "..",
    "%2e%2e",
    ".hidden.json",
    "secret.json%00.json",
    "%2fetc%2fpasswd",
    "C:%5csecret.json",
    "link.json",
    "session.txt",
]


@pytest.fixture
def secret(recordings: Path) -> Path:
    """A cassette next to the recordings folder, and a symlink to it from inside."""
    from dashboard_samples import write

    outside = write(recordings.parent, "secret.json", session="SECRET")
    (recordings / "link.json").symlink_to(outside)
    return outside


READ_ROUTES = [
    "/api/recording/{}",
    "/api/recording/{}/events",
    "/api/recording/{}/fields",
    "/api/recording/{}/timeline",
    "/api/diff?a=session.json&b={}",
]


@pytest.mark.usefixtures("secret")
@pytest.mark.parametrize("name", TRAVERSAL)
def test_nothing_outside_the_folder_can_be_read(client: FlaskClient, name: str) -> None:
    for route in READ_ROUTES:
        response = client.get(route.format(name))
        assert response.status_code in (400, 404), route
        assert response.mimetype == "application/json"
        assert "SECRET" not in response.get_data(as_text=True)


@pytest.mark.usefixtures("secret")
@pytest.mark.parametrize("name", TRAVERSAL)
def test_nothing_outside_the_folder_can_be_replayed_or_copied(
    client: FlaskClient, name: str, recordings: Path
) -> None:
    assert client.post(f"/api/replay/start/{name}", json={}).status_code in (400, 404)
    response = client.post(
        "/api/recording/create",
        json={
            "source_filename": name.replace("%2f", "/").replace("%5c", "\\"),
            "event_indices": [0],
            "new_session_name": "../../stolen",
        },
    )
    assert response.status_code in (400, 404)
    assert not list(recordings.parent.glob("stolen*"))


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        ("{not json", "application/json", 400, ("not valid JSON",)),
        ("[1, 2]", "application/json", 400, ("must be a JSON object", "a list")),
        ('"text"', "application/json", 400, ("must be a JSON object", "a string")),
        ('{"speed": NaN}', "application/json", 400, ("NaN",)),
        ("\xff\xfe", "application/json", 400, ("not valid JSON",)),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, ("not valid JSON",)),
        ("session_name=x", "application/x-www-form-urlencoded", 415, ("Content-Type",)),
        ('{"session_name": "x"}', "text/plain", 415, ("Content-Type",)),
    ],
    ids=["broken", "list", "string", "nan", "not-utf8", "deeply-nested", "form", "text-plain"],
)
def test_malformed_bodies_are_4xx_json(
    client: FlaskClient, data: str, content_type: str, status: int, words: tuple[str, ...]
) -> None:
    raw = data.encode("latin-1") if "\xff" in data else data.encode()
    for url, _ in POST_ROUTES:
        response = client.post(url, data=raw, content_type=content_type)
        assert response.status_code == status, (url, response.get_data(as_text=True))
        for word in words:
            assert word in response.get_json()["error"]


def test_oversized_bodies_are_413_json(client: FlaskClient) -> None:
    big = '{"x": "' + "a" * (1024 * 1024) + '"}'
    for url, _ in POST_ROUTES:
        response = client.post(url, data=big, content_type="application/json")
        assert response.status_code == 413, url
        assert "larger than 1024 KiB" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("method", "url", "status", "words"),
    [
        ("GET", "/api/nothing", 404, ("no API endpoint at /api/nothing",)),
        ("GET", "/api", 404, ("no API endpoint",)),
        ("GET", "/api/recording/a/b/c", 400, ("invalid file name 'a/b/c'", "must end in .json")),
        ("POST", "/api/recordings", 405, ("POST is not allowed",)),
        ("GET", "/api/record/start", 405, ("GET is not allowed",)),
        ("DELETE", "/api/recording/session.json", 405, ("DELETE",)),
        ("PUT", "/api/replay/speed", 405, ("PUT",)),
    ],
)
def test_unknown_routes_and_methods_are_json(
    client: FlaskClient, method: str, url: str, status: int, words: tuple[str, ...]
) -> None:
    response = client.open(url, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    for word in words:
        assert word in response.get_json()["error"]


def test_pages_keep_their_own_error_pages(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_an_unexpected_failure_is_a_json_500_not_a_traceback(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["eventrecorder"].store

    def explode() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "list_recordings", explode)
    response = client.get("/api/recordings")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error (RuntimeError); see the server log"}


def test_page_error_handlers_do_not_turn_api_errors_into_html() -> None:
    from pytest_eventrecorder.server.api import api, install_api_errors

    app = Flask(__name__)
    app.register_error_handler(404, lambda exc: ("<h1>Lost?</h1>", 404))
    app.register_blueprint(api)
    install_api_errors(app)
    client = app.test_client()
    assert client.get("/api/nowhere").get_json()["error"].startswith("no API endpoint")
    assert client.get("/nowhere").get_data(as_text=True) == "<h1>Lost?</h1>"


# --------------------------------------------------------------------------- bound names


def app_for(recordings: Path, host: str, **kw: Any) -> Flask:
    return create_app(EventRecorderConfig(recordings_dir=recordings, host=host), testing=True, **kw)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "dash.example"])
def test_a_dns_rebinding_page_is_refused_whatever_the_bind(recordings: Path, host: str) -> None:
    client = app_for(recordings, host).test_client()
    rebound = {"Host": "evil.com:5556", "Origin": "http://evil.com:5556"}
    response = client.post("/api/record/start", json={"session_name": "s"}, headers=rebound)
    assert response.status_code == 403
    assert "host 'evil.com:5556' refused" in response.get_json()["error"]
    assert client.get("/api/recordings", headers={"Host": "evil.com"}).status_code == 403
    assert not client.get("/api/record/status").get_json()["recording"]


def test_origin_is_compared_with_the_bound_address_not_the_host_header(recordings: Path) -> None:
    client = create_app(
        EventRecorderConfig(recordings_dir=recordings), token=TOKEN, testing=True
    ).test_client()
    headers = {
        "Host": "evil.com",
        "Origin": "http://evil.com",
        "Authorization": f"Bearer {TOKEN}",
    }
    response = client.post("/api/record/start", json={"session_name": "s"}, headers=headers)
    assert response.status_code == 403
    assert "cross-origin request from 'http://evil.com' refused" in response.get_json()["error"]


class FakeSocket:
    """What werkzeug puts in ``environ["werkzeug.socket"]``: the connection, and its local
    address (the interface the client reached)."""

    def __init__(self, local: str) -> None:
        self.local = local

    def getsockname(self) -> tuple[str, int]:
        return (self.local, 5556)


def arriving_on(local: str) -> dict[str, Any]:
    return {"environ_overrides": {"werkzeug.socket": FakeSocket(local)}}


@pytest.mark.parametrize(
    ("bind", "local", "host", "served"),
    [
        ("0.0.0.0", "192.168.1.5", "192.168.1.5:5556", True),  # the address it arrived on
        ("::", "::ffff:192.168.1.5", "192.168.1.5:5556", True),  # dual stack, over IPv4
        ("::", "fe80::1", "[fe80::1]:5556", True),
        ("0.0.0.0", "192.168.1.5", "10.0.0.9:5556", False),  # another address: a proxy?
        ("0.0.0.0", "192.168.1.5", "intranet.example:5556", False),
        ("192.168.1.5", "192.168.1.5", "192.168.1.5:5556", True),
        ("192.168.1.5", "192.168.1.5", "10.0.0.9:5556", False),
        ("dash.example", "192.168.1.5", "DASH.example:5556", True),
        ("dash.example", "192.168.1.5", "other.example", False),
        ("127.0.0.1", "127.0.0.1", "192.168.1.5:5556", False),
    ],
)
def test_host_names_follow_the_bind_and_the_arrival_address(
    recordings: Path, bind: str, local: str, host: str, served: bool
) -> None:
    client = app_for(recordings, bind).test_client()
    response = client.get("/api/recordings", headers={"Host": host}, **arriving_on(local))
    assert (response.status_code == 200) is served, response.get_json()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://192.168.1.5", True),
        ("http://1.2.3.4", False),  # an attacker's page served from an address, same port
        ("http://192.168.1.5:8080", False),
    ],
)
def test_an_origin_must_be_the_address_the_page_reached(
    recordings: Path, origin: str, allowed: bool
) -> None:
    client = app_for(recordings, "0.0.0.0").test_client()
    headers = {"Host": "192.168.1.5", "Origin": origin}
    response = client.post("/api/replay/stop", headers=headers, **arriving_on("192.168.1.5"))
    assert (response.status_code == 200) is allowed, response.get_json()


def test_a_wildcard_bind_answers_to_the_machine_name(recordings: Path) -> None:
    import socket

    client = app_for(recordings, "0.0.0.0").test_client()
    host = f"{socket.gethostname()}:5556"
    assert client.get("/api/recordings", headers={"Host": host}).status_code == 200


def test_allowed_hosts_add_names_on_any_port(recordings: Path) -> None:
    client = app_for(recordings, "0.0.0.0", allowed_hosts=["Dash.Example"]).test_client()
    headers = {"Host": "dash.example", "Origin": "https://dash.example"}
    response = client.post("/api/record/start", json={"session_name": "s"}, headers=headers)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost", True),  # the test client's server port is 80
        ("http://127.0.0.1:80", True),
        ("http://[::1]", True),
        ("https://localhost", False),  # port 443
        ("http://localhost:5556", False),
        ("http://localhost:bad", False),
        ("file://", False),
    ],
)
def test_origin_port_must_be_the_servers(client: FlaskClient, origin: str, allowed: bool) -> None:
    response = client.post("/api/replay/stop", headers={"Origin": origin})
    assert (response.status_code == 200) is allowed


# --------------------------------------------------------------------------- headers, token text


@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/api/recordings"), ("GET", "/api/nothing"), ("POST", "/api/record/stop")],
)
def test_api_responses_forbid_sniffing_and_embedding(
    client: FlaskClient, guarded: Flask, method: str, url: str
) -> None:
    for response in (client.open(url, method=method), guarded.test_client().open(url)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("GET /?token=s3cret HTTP/1.1", "GET /?token=*** HTTP/1.1"),
        ("GET /api/replay/stream?x=1&TOKEN=a%20b&y=2", "GET /api/replay/stream?x=1&TOKEN=***&y=2"),
        ('"GET /compare?a=x&token=abc" 200 -', '"GET /compare?a=x&token=***" 200 -'),
        ("GET /?notoken=1&mytoken=2", "GET /?notoken=1&mytoken=2"),
    ],
)
def test_mask_token(text: str, masked: str) -> None:
    from pytest_eventrecorder.server.access import mask_token

    assert mask_token(text) == masked


def test_read_token_file(tmp_path: Path) -> None:
    from pytest_eventrecorder.server.access import read_token_file

    (tmp_path / "t").write_text("  s3cret \n# not part of it\n")
    assert read_token_file(tmp_path / "t") == "s3cret"
    (tmp_path / "empty").write_text("\n \n")
    with pytest.raises(ValueError, match="empty"):
        read_token_file(tmp_path / "empty")
    with pytest.raises(ValueError, match="cannot read the token file"):
        read_token_file(tmp_path / "missing")
