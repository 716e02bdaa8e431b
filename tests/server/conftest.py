"""Fixtures for the dashboard backend: a recordings folder, the Flask ``app`` and ``client``."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_samples import START, write
from flask import Flask
from flask.testing import FlaskClient

from pytest_eventrecorder import EventRecorderConfig
from pytest_eventrecorder.server import create_app


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample folder, written once (cassette writes are fsynced, so slow-ish)."""
    folder = tmp_path_factory.mktemp("template")
    for name in ("session.json", "session.jsonl", "session.yaml", "session.jsonl.gz"):
        write(folder, name)
    broken = {
        "session_name": "x",
        "start_time": START,
        "events": [{"timestamp_offset_ms": 0, "event_name": 3, "event_data": {}}],
    }
    (folder / "broken.json").write_text(json.dumps(broken))
    return folder


@pytest.fixture
def recordings(template: Path, tmp_path: Path) -> Path:
    """A folder with the same recording in several formats, plus a broken one."""
    return Path(shutil.copytree(template, tmp_path / "recordings"))


@pytest.fixture
def app(recordings: Path) -> Iterator[Flask]:
    app = create_app(EventRecorderConfig(recordings_dir=recordings), testing=True)
    app.config["EVENTRECORDER_STREAM_INTERVAL"] = 0.005
    yield app
    app.extensions["eventrecorder"].replay.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """Poll ``check`` until it returns something truthy (a hang guard, not a timing test)."""

    def wait(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.005)
        raise AssertionError(f"timed out waiting for {what}")

    return wait
