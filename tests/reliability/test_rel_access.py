"""Who can drive the dashboard, and what it leaves behind: concurrent replay starts never
orphan a thread; a non-loopback bind needs a token (or an explicit opt-out); Host and Origin
are checked against the bound addresses; the token stays out of logs and process arguments."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rel_support import START

from pytest_eventrecorder import Cassette, EventRecorderConfig, RecordedEvent, write_cassette
from pytest_eventrecorder.server import create_app

REPLAY_THREAD = "eventrecorder-replay"


def replay_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == REPLAY_THREAD and t.is_alive()]


@pytest.fixture
def slow_app(tmp_path: Path) -> Iterator[Flask]:
    """A dashboard over one cassette that takes minutes to replay at 1x."""
    events = [RecordedEvent(i * 1000.0, "Tick", {"i": i}) for i in range(200)]
    write_cassette(tmp_path / "slow.json", Cassette.build("slow", events, start_time=START))
    app = create_app(EventRecorderConfig(recordings_dir=tmp_path), testing=True)
    yield app
    app.extensions["eventrecorder"].replay.stop()


# --------------------------------------------------------------------------- 13.15


def start_together(app: Flask, count: int) -> list[int]:
    """``count`` replay starts released at the same moment; their status codes."""
    barrier = threading.Barrier(count)
    codes: list[int] = []

    def start() -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(client.post("/api/replay/start/slow.json", json={}).status_code)

    starters = [threading.Thread(target=start) for _ in range(count)]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    return codes


def test_concurrent_replay_starts_leave_no_thread_behind(slow_app: Flask) -> None:
    before = len(replay_threads())
    for _round in range(5):
        assert start_together(slow_app, 8) == [200] * 8
        assert len(replay_threads()) - before <= 1  # the one replay that won
    status = slow_app.test_client().post("/api/replay/stop").get_json()
    assert status["status"] == "stopped"
    assert len(replay_threads()) == before


# ------------------------------------------------------------- 13.16, 13.17: the real serve


SECRET = "tok-7f3a9c-SECRET"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """``eventrecorder serve`` in a subprocess, listening on ``port``."""

    def __init__(self, folder: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        command = [sys.executable, "-m", "pytest_eventrecorder", "serve"]
        command += ["--recordings-dir", str(folder), "--port", str(self.port), *args]
        environ = {k: v for k, v in os.environ.items() if k != "EVENTRECORDER_TOKEN"}
        self.process = subprocess.Popen(
            command, env={**environ, **(env or {})}, stderr=subprocess.PIPE, text=True
        )

    def wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.stop()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"serve never listened: {self.stop()}")

    def call(
        self, method: str, path: str, headers: dict[str, str], body: object = None
    ) -> tuple[int, dict[str, object]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = None if body is None else json.dumps(body)
        if data is not None:
            headers = {**headers, "Content-Type": "application/json"}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read()
        connection.close()
        return response.status, json.loads(text) if text.startswith(b"{") else {}

    def cmdline(self) -> str:
        return Path(f"/proc/{self.process.pid}/cmdline").read_bytes().decode()

    def stop(self) -> str:
        """Stop it like Ctrl+C; its stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


def test_serve_refuses_to_expose_the_dashboard_without_a_token(slow_app: Flask) -> None:
    served = Served(slow_app.config["EVENTRECORDER_CONFIG"].recordings_dir, "--host", "0.0.0.0")
    assert served.process.wait(timeout=60) == 2
    err = served.stop()
    assert "Error: refusing to serve on 0.0.0.0 without a token" in err
    assert "--insecure-no-token" in err
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", served.port), timeout=1).close()


def test_the_opt_out_serves_but_a_rebinding_page_cannot_record(slow_app: Flask) -> None:
    folder = slow_app.config["EVENTRECORDER_CONFIG"].recordings_dir
    served = Served(folder, "--host", "0.0.0.0", "--insecure-no-token")
    try:
        served.wait_listening()
        rebound = {"Host": f"evil.com:{served.port}", "Origin": f"http://evil.com:{served.port}"}
        status, body = served.call("POST", "/api/record/start", rebound, {"session_name": "x"})
        assert status == 403, body
        assert "host 'evil.com" in str(body["error"])
        status, body = served.call("GET", "/api/recordings", {"Host": "evil.com"})
        assert status == 403
        own = {"Host": f"127.0.0.1:{served.port}", "Origin": f"http://127.0.0.1:{served.port}"}
        status, body = served.call("POST", "/api/record/start", own, {"session_name": "x"})
        assert status == 200, body
        status, body = served.call("POST", "/api/record/stop", own, {})
        assert status == 200, body
    finally:
        err = served.stop()
    assert "without a token (as asked)" in err


@pytest.mark.parametrize("source", ["env", "file"])
def test_the_token_stays_out_of_arguments_and_logs(
    slow_app: Flask, tmp_path: Path, source: str
) -> None:
    folder = slow_app.config["EVENTRECORDER_CONFIG"].recordings_dir
    (tmp_path / "token").write_text(SECRET + "\n")
    if source == "env":
        served = Served(folder, env={"EVENTRECORDER_TOKEN": SECRET})
    else:
        served = Served(folder, "--token-file", str(tmp_path / "token"))
    try:
        served.wait_listening()
        assert SECRET not in served.cmdline()
        auth = {"Authorization": f"Bearer {SECRET}"}
        status, body = served.call("GET", "/api/recordings", auth)
        assert status == 200, body
        assert served.call("GET", "/api/recordings", {})[0] == 401
        assert served.call("GET", f"/api/replay/stream?token={SECRET}", {})[0] == 200
        assert served.call("GET", f"/?token={SECRET}&x=1", {})[0] == 200
    finally:
        err = served.stop()
    assert SECRET not in err
    assert "GET /?token=***&x=1 HTTP/1.1" in err
    assert "/api/replay/stream?token=***" in err
