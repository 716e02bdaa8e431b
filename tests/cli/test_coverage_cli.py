"""``eventrecorder coverage`` through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_eventrecorder import Cassette, CassetteHeader, RecordedEvent, write_cassette

pytestmark = pytest.mark.skipif(
    shutil.which("eventrecorder") is None, reason="console script not installed"
)


def cassette(path: Path, events: list[RecordedEvent]) -> Path:
    header = CassetteHeader(session_name=path.stem, start_time="2026-01-01T00:00:00")
    return write_cassette(path, Cassette(header, tuple(events)))


def traffic(n: int) -> list[RecordedEvent]:
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(RecordedEvent(i, "OrderRejected", {"id": i, "why": "x"}, "Risk"))
        elif i % 2:
            out.append(RecordedEvent(i, "PriceTick", {"sym": "BTC", "px": i}, "Feed"))
        else:
            out.append(RecordedEvent(i, "OrderPlaced", {"id": i, "qty": 1}, "Bot"))
    return out


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["eventrecorder", "coverage", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_coverage_names_what_tests_never_exercise(tmp_path: Path) -> None:
    prod = cassette(tmp_path / "prod.jsonl.gz", traffic(20_000))
    tests = tmp_path / "tests" / "cassettes" / "test_bot"
    tests.mkdir(parents=True)
    tick = RecordedEvent(0, "PriceTick", {"sym": "ETH", "px": 2}, "Feed")
    order = RecordedEvent(0, "OrderPlaced", {"id": 1, "qty": 3}, "Bot")
    cassette(tests / "test_buys.json", [tick])
    cassette(tests / "test_orders.yaml", [order])
    result = run(prod, "--cassettes", tmp_path / "tests")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "event coverage of 20,000 recorded events by 2 events in cassettes:"
    assert "overall           6 of 9" in result.stdout
    assert "events fully covered: 90.0%" in result.stdout
    assert "2,000  event name OrderRejected" in result.stdout

    figures = json.loads(run(prod, "--cassettes", tmp_path / "tests", "--json").stdout)
    assert figures["kinds"]["shape"] == {"covered": 2, "total": 3}
    biggest = {"events": 2000, "kind": "event name", "item": "OrderRejected"}
    assert figures["uncovered"][0] == biggest

    under = run(prod, "--cassettes", tmp_path / "tests", "--fail-under", "70")
    assert under.returncode == 1
    assert "coverage 66.7% is under 70%" in under.stderr
    assert run(prod, "--cassettes", tmp_path / "tests", "--fail-under", "60").returncode == 0


def test_coverage_errors_name_the_problem(tmp_path: Path) -> None:
    prod = cassette(tmp_path / "prod.json", traffic(10))
    missing = run(prod, "--cassettes", tmp_path / "nope.json")
    assert missing.returncode == 2
    assert "nope.json: no such file" in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = run(prod, "--cassettes", tmp_path / "empty")
    assert empty.returncode == 2
    assert "no cassette files in this folder" in empty.stderr
