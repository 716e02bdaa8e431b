"""End-to-end: installed beside pytest-recording (vcrpy), both plugins load in either order.

``--record-mode`` belongs to whichever plugin registers it first and drives both (one flag
re-records HTTP and events alike); ``--event-record-mode`` always exists and sets ours alone.
The inner sessions run in subprocesses with plugin autoloading off, so each test chooses
the load order (``-p`` order, or a conftest's ``pytest_plugins``).
"""

from __future__ import annotations

import http.server
import json
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_e2e import QUIET_SUBPROCESS, conftest_with, live_calls, project_files

OURS = "pytest_eventrecorder.pytest_plugin.plugin"
THEIRS = "pytest_recording.plugin"
ORDERS = [(OURS, THEIRS), (THEIRS, OURS)]
ORDER_IDS = ["ours-first", "theirs-first"]

IMPORTS = """
    import os
    import urllib.request

    import pytest
    from busapp import live_feed
"""

HTTP_TEST = """
    @pytest.mark.vcr
    def test_http():
        with urllib.request.urlopen(os.environ["PRICE_URL"]) as response:
            assert response.read() == b"price=99"
"""

EVENT_TEST = """
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_events(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert len(bot.orders) == 2
"""

HTTP_AND_EVENTS = IMPORTS + HTTP_TEST + EVENT_TEST


class _PriceHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"price=99"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the inner session's output is what the assertions read."""


@pytest.fixture
def price_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A local HTTP server on 127.0.0.1; yields the paths it was asked for."""
    seen: list[str] = []

    class Handler(_PriceHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PRICE_URL", f"http://127.0.0.1:{server.server_address[1]}/price")
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The bus project, with autoloading off: each test names the plugins and their order."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    project_files(pytester).makepyfile(test_mixed=textwrap.dedent(HTTP_AND_EVENTS))
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess(*QUIET_SUBPROCESS, *args)


def with_plugins(order: tuple[str, str]) -> list[str]:
    return [arg for name in order for arg in ("-p", name)]


def cassettes(project: pytest.Pytester) -> Path:
    return project.path / "cassettes" / "test_mixed"


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_one_record_mode_records_http_and_events(
    project: pytest.Pytester, price_server: list[str], order: tuple[str, str]
) -> None:
    result = run(project, *with_plugins(order), "--record-mode=all")
    result.assert_outcomes(passed=2)
    assert (cassettes(project) / "test_http.yaml").is_file()
    events = json.loads((cassettes(project) / "test_events.json").read_text())["events"]
    assert [e["event_name"] for e in events].count("OrderPlaced") == 2
    assert price_server == ["/price"]

    # Both replay now: no request reaches the server, the live feed is not called.
    run(project, *with_plugins(order), "--record-mode=none").assert_outcomes(passed=2)
    assert price_server == ["/price"]
    assert live_calls(project) == 1


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_plugins_listed_in_a_conftest_load_in_either_order(
    project: pytest.Pytester, price_server: list[str], order: tuple[str, str]
) -> None:
    project.makeconftest(conftest_with(f"pytest_plugins = {list(order)!r}\n"))
    result = run(project, "--record-mode=all")
    result.assert_outcomes(passed=2)
    assert (cassettes(project) / "test_http.yaml").is_file()
    assert (cassettes(project) / "test_events.json").is_file()


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_event_record_mode_sets_ours_alone(
    project: pytest.Pytester, price_server: list[str], order: tuple[str, str]
) -> None:
    run(project, *with_plugins(order), "--record-mode=all").assert_outcomes(passed=2)
    http_cassette = cassettes(project) / "test_http.yaml"
    recorded = http_cassette.read_text()

    # vcrpy stays in its own default (none: replay), our cassette is re-recorded.
    result = run(project, *with_plugins(order), "--event-record-mode=all")
    result.assert_outcomes(passed=2)
    assert live_calls(project) == 2
    assert http_cassette.read_text() == recorded
    assert price_server == ["/price"]


def test_event_record_mode_wins_over_the_shared_flag_for_events(
    project: pytest.Pytester, price_server: list[str]
) -> None:
    run(project, *with_plugins(ORDERS[1]), "--record-mode=all").assert_outcomes(passed=2)
    result = run(
        project, *with_plugins(ORDERS[1]), "--record-mode=all", "--event-record-mode=none"
    )
    result.assert_outcomes(passed=2)
    assert live_calls(project) == 1  # events replayed
    assert price_server == ["/price", "/price"]  # HTTP re-recorded


def test_alone_we_still_own_record_mode(project: pytest.Pytester) -> None:
    project.makepyfile(test_mixed=textwrap.dedent(IMPORTS + EVENT_TEST))
    run(project, "-p", OURS, "--record-mode=all").assert_outcomes(passed=1)
    result = run(project, "-p", OURS, "--record-mode=sometimes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--record-mode*invalid choice*sometimes*"])
