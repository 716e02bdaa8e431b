"""Every command once for real: installed console scripts and ``python -m`` forms."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_samples import sample_cassette

from pytest_eventrecorder import read_cassette

pytestmark = pytest.mark.skipif(
    shutil.which("eventrecorder") is None or shutil.which("pubsub-tools") is None,
    reason="console scripts not installed; run pip install -e .",
)
ENV = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "EVENTRECORDER_DEBUG")}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=60, cwd=cwd, env=ENV
    )


def eventrecorder(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run("eventrecorder", *args)


def assert_one_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("Error: ") == 1
    assert fragment in result.stderr


@pytest.fixture
def src(make_cassette: Callable[..., Path]) -> Path:
    return make_cassette("session.jsonl")


def test_info(src: Path, tmp_path: Path) -> None:
    result = eventrecorder("info", "--json", src)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["total_events"] == 9
    assert_one_error(eventrecorder("info", tmp_path / "nope.json"), "nope.json: no such file")


def test_timeline_is_plain_when_piped(src: Path) -> None:
    result = eventrecorder("timeline", src, "-n", "2")
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout
    assert len(result.stdout.splitlines()) == 2
    assert "\x1b[" in eventrecorder("--color", "timeline", src).stdout


def test_timeline_into_a_closed_pipe_is_quiet(make_cassette: Callable[..., Path]) -> None:
    big = make_cassette("big.jsonl", sample_cassette(20_000))
    shell = f"eventrecorder timeline {big} -n 0 | head -n 1"
    result = subprocess.run(
        ["sh", "-c", shell], capture_output=True, text=True, timeout=60, env=ENV
    )
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "Error" not in result.stderr


def test_filter(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "orders.json"
    result = eventrecorder("filter", src, "-o", out, "--event", "Order*", "--from-ms", "100")
    assert result.returncode == 0, result.stderr
    assert len(read_cassette(out).events) == 6
    bad = eventrecorder("filter", src, "-o", out, "--where", "event_data.price >")
    assert bad.returncode == 2
    assert "Invalid value for '--where'" in bad.stderr


def test_diff(src: Path, make_cassette: Callable[..., Path]) -> None:
    same = eventrecorder("diff", src, make_cassette("copy.json"))
    assert same.returncode == 0
    other = make_cassette("other.yaml", sample_cassette(8))
    different = eventrecorder("diff", src, other)
    assert different.returncode == 1
    assert "missing 'OrderFilled'" in different.stdout


def test_convert(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "session.yaml.gz"
    assert eventrecorder("convert", src, out).returncode == 0
    assert read_cassette(out) == read_cassette(src)


def test_validate(src: Path, tmp_path: Path) -> None:
    assert eventrecorder("validate", src).returncode == 0
    broken = tmp_path / "broken.json"
    broken.write_text("[")
    result = eventrecorder("validate", src, broken)
    assert result.returncode == 1
    assert f"{broken}, line 1: not valid JSON" in result.stdout


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert "Traceback" not in eventrecorder("info", broken).stderr
    assert "Traceback" in eventrecorder("--debug", "timeline", broken).stderr


def test_python_dash_m_package(src: Path) -> None:
    result = run(sys.executable, "-m", "pytest_eventrecorder", "info", src)
    assert result.returncode == 0, result.stderr
    assert "events       9" in result.stdout
    usage = run(sys.executable, "-m", "pytest_eventrecorder", "--help")
    assert "Usage: python -m pytest_eventrecorder" in usage.stdout


@pytest.mark.parametrize("command", ["info", "timeline"])
def test_seed_module_form(src: Path, command: str) -> None:
    result = run(sys.executable, "-m", "pytest_eventrecorder.event_recorder", command, src)
    assert result.returncode == 0, result.stderr
    assert "MarketDataReceived" in result.stdout


def test_seed_serve_recorder_module_help() -> None:
    result = run(sys.executable, "-m", "pytest_eventrecorder.serve_recorder", "--help")
    assert result.returncode == 0
    assert "Usage: python -m pytest_eventrecorder.serve_recorder [OPTIONS]" in result.stdout
    assert "--recordings-dir" in result.stdout


# --------------------------------------------------------------------------- the dashboard


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], str]]]:
    """Start a server command; returns it and the URL it printed. Stopped with Ctrl+C."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str | Path, cwd: Path = tmp_path) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=cwd,
            env=ENV,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(proc)
        return proc, _announced_url(proc)

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _announced_url(proc: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline and selector.select(timeout=deadline - time.monotonic()):
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if " at http://" in line:
            return line.split(" at ", 1)[1].split()[0].split("?")[0]
    raise AssertionError(f"the dashboard never announced its URL: {''.join(seen)}")


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.load(response))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def test_serve_for_real(
    dashboard: Callable[..., tuple[subprocess.Popen[str], str]],
    make_cassette: Callable[..., Path],
    tmp_path: Path,
) -> None:
    make_cassette("recs/session.json")
    proc, url = dashboard("eventrecorder", "serve", "--port", "0", "--recordings-dir", "recs")
    listing = _get_json(f"{url}api/recordings")
    assert [r["filename"] for r in listing["recordings"]] == ["session.json"]  # type: ignore[index, union-attr]
    _stop(proc)


def test_pubsub_tools_event_recorder_for_real(
    dashboard: Callable[..., tuple[subprocess.Popen[str], str]],
    make_cassette: Callable[..., Path],
    tmp_path: Path,
) -> None:
    make_cassette("data/a.jsonl")
    conf = tmp_path / "devtools_config.yaml"
    conf.write_text("event_recorder:\n  recordings_dir: data\n  port: 0\n")
    proc, url = dashboard("pubsub-tools", "event-recorder", "--config", conf)
    assert _get_json(f"{url}api/recordings")["count"] == 1
    _stop(proc)
