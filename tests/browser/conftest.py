"""A real dashboard (``create_app``) over generated recordings, served on a free local port,
driven by Debian's Chromium through Playwright (one browser per test module)."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sample_data import write_sample_recordings
from werkzeug.serving import BaseWSGIServer, make_server

from pytest_eventrecorder.config import EventRecorderConfig
from pytest_eventrecorder.server import create_app

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS_ENV = "EVENTRECORDER_SCREENSHOTS"
TOKEN = "s3cret-token"


def _shared_helpers() -> ModuleType:
    """tests/conftest.py: conftest files share one module name, so load it by path."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("eventrecorder_tests_shared", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


require_chromium: Callable[[], Path] = _shared_helpers().require_chromium


class Dashboard:
    """A running dashboard: its base URL and its recordings folder."""

    def __init__(self, folder: Path, token: str | None = None) -> None:
        self.folder = folder
        self.token = token
        config = EventRecorderConfig(recordings_dir=folder, port=0)
        self.server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, create_app(config, token=token), threaded=True
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def api(self, path: str, body: object | None = None) -> dict[str, object]:
        """Call the API from the test (to check what the page did)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method="POST" if data else "GET"
        )
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, object] = json.loads(response.read())
        return result

    def close(self) -> None:
        self.api("/api/replay/stop", {})
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("recordings")
    write_sample_recordings(folder)
    running = Dashboard(folder)
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    chromium = require_chromium()
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: playwright_api.Browser) -> Iterator[playwright_api.Page]:
    """A fresh page that fails the test on any console error or uncaught exception."""
    # Not UTC, so a time shown in the browser's zone instead of UTC would be caught.
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, timezone_id="America/New_York"
    )
    new_page = context.new_page()
    new_page.set_default_timeout(8000)
    problems: list[str] = []
    new_page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    new_page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    new_page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    new_page.problems = problems  # type: ignore[attr-defined]
    yield new_page
    context.close()
    assert not problems, problems


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Iterator[object]:
    """Save screenshots into $EVENTRECORDER_SCREENSHOTS (when set) to look at the UI."""
    folder = os.environ.get(SHOTS_ENV)

    def take(target: playwright_api.Page | playwright_api.Locator, name: str, **kw: object) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            target.screenshot(path=str(Path(folder) / f"{name}.png"), **kw)  # type: ignore[arg-type]

    return take
