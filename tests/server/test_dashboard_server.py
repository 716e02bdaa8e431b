"""EventRecorderServer over real HTTP, and the web_integration example against it."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder import EventRecorderConfig, EventRecorderServer
from pytest_eventrecorder.server import is_loopback

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(recordings: Path) -> Iterator[EventRecorderServer]:
    server = EventRecorderServer(EventRecorderConfig(recordings_dir=recordings, port=0))
    server.start()
    yield server
    server.shutdown()


def fetch(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get_content_type(), response.read()


def test_the_server_serves_the_api_and_the_pages(server: EventRecorderServer) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    status, kind, body = fetch(f"{server.url}/api/recordings")
    assert (status, kind) == (200, "application/json")
    assert json.loads(body)["count"] == 5
    status, kind, _ = fetch(f"{server.url}/")
    assert (status, kind) == (200, "text/html")


def test_the_event_stream_flows_over_http(server: EventRecorderServer) -> None:
    fetch(f"{server.url}/api/replay/start/session.json", "POST", {"speed": 100})
    request = urllib.request.Request(f"{server.url}/api/replay/stream")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers.get_content_type() == "text/event-stream"
        text = response.read().decode()
    statuses = [json.loads(m[6:])["status"] for m in text.split("\n\n") if m.startswith("data: ")]
    assert statuses[-1] == "finished"


def test_a_token_server_refuses_calls_without_it(recordings: Path) -> None:
    config = EventRecorderConfig(recordings_dir=recordings, port=0)
    server = EventRecorderServer(config, token="t0ken")
    server.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(f"{server.url}/api/recordings")
        assert refused.value.code == 401
        assert fetch(f"{server.url}/api/recordings", token="t0ken")[0] == 200
    finally:
        server.shutdown()


def test_run_serves_on_the_configured_host_until_shut_down(recordings: Path) -> None:
    server = EventRecorderServer(EventRecorderConfig(recordings_dir=recordings, port=0))
    url = server.url
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        assert fetch(f"{url}/api/record/status")[0] == 200
    finally:
        server.shutdown()
        thread.join(10)
    assert not thread.is_alive()
    assert not server.app.debug


@pytest.mark.parametrize(
    ("host", "token", "warned"),
    [
        ("0.0.0.0", None, True),
        ("0.0.0.0", "t", False),
        ("127.0.0.1", None, False),
        ("localhost", None, False),
    ],
)
def test_an_exposed_server_without_token_warns(
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
    host: str,
    token: str | None,
    warned: bool,
) -> None:
    server = EventRecorderServer(
        EventRecorderConfig(recordings_dir=recordings, host=host, port=0),
        token=token,
        allow_no_token=True,  # without it, an exposed bind is refused (test_rel_access)
    )
    with caplog.at_level(logging.WARNING, logger="pytest_eventrecorder"):
        server.start()
    server.shutdown()
    assert ("without a token" in caplog.text) is warned


def test_the_default_config_binds_loopback() -> None:
    assert EventRecorderServer().config.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.0.2", False),
        ("example.com", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_web_integration_example_runs(tmp_path: Path) -> None:
    script = ROOT / "examples" / "event_recorder" / "web_integration.py"
    result = subprocess.run(
        [sys.executable, str(script), "--recordings-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "recorded 7 events into web_demo.json" in out
    assert "2 orders" in out
    assert "saved the orders as web_demo_orders.json (2 events)" in out
    assert "replay finished: 2/2 events" in out
    assert "diff: equal=False" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web_demo.json", "web_demo_orders.json"]
