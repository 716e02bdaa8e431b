"""``diff`` over streams: the report of a streamed comparison reads exactly like the
whole-file one, and paths that name no field are a note on stderr (real CLI, subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pytest_eventrecorder import Cassette, RecordedEvent
from pytest_eventrecorder.cli import main
from pytest_eventrecorder.compare import STREAM_WINDOW, compare_events, format_report
from pytest_eventrecorder.formats import write_cassette

START = "2025-10-17T10:00:00Z"


def drifted(count: int) -> tuple[list[RecordedEvent], list[RecordedEvent]]:
    """A recording and a rerun whose events drift every few thousand events."""
    expected = [
        RecordedEvent(i * 1.0, f"E{i % 5}", {"n": i, "price": "1.50"}, f"s{i % 3}")
        for i in range(count)
    ]
    actual = list(expected)
    for at in range(1000, count, 3001):
        actual[at] = RecordedEvent(at * 1.0, f"E{at % 5}", {"n": at, "price": "2"}, f"s{at % 3}")
    del actual[count // 2]
    actual.insert(count // 3, RecordedEvent(5.0, "Extra", {}, "s0"))
    return expected, actual


@pytest.fixture
def big_pair(tmp_path: Path) -> tuple[Path, Path, list[RecordedEvent], list[RecordedEvent]]:
    expected, actual = drifted(3 * STREAM_WINDOW)
    a = write_cassette(tmp_path / "a.jsonl", Cassette.build("a", expected, start_time=START))
    b = write_cassette(tmp_path / "b.jsonl.gz", Cassette.build("b", actual, start_time=START))
    return a, b, expected, actual


def test_a_streamed_text_report_is_the_whole_file_report(
    big_pair: tuple[Path, Path, list[RecordedEvent], list[RecordedEvent]],
) -> None:
    a, b, expected, actual = big_pair
    result = CliRunner().invoke(main, ["diff", str(a), str(b)], catch_exceptions=False)
    assert result.exit_code == 1
    whole = format_report(compare_events(expected, actual))
    assert result.stdout == f"--- {a} (recorded)\n+++ {b} (new)\n{whole}\n"


def test_a_streamed_json_report_is_the_whole_file_report(
    big_pair: tuple[Path, Path, list[RecordedEvent], list[RecordedEvent]],
) -> None:
    a, b, expected, actual = big_pair
    result = CliRunner().invoke(main, ["diff", "--json", str(a), str(b)], catch_exceptions=False)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["differences"] == [d.to_dict() for d in compare_events(expected, actual)]
    assert data["equal"] is False
    assert data["a"]["total_events"] == len(expected)
    assert data["b"]["total_events"] == len(actual)
    assert data["b"]["duration_ms"] == max(e.timestamp_offset_ms for e in actual)


@pytest.mark.skipif(shutil.which("eventrecorder") is None, reason="console script not installed")
def test_an_ignored_path_that_names_no_field_is_a_note(tmp_path: Path) -> None:
    events = [RecordedEvent(0.0, "Paid", {"payment_id": 1, "amount": "4.5"}, "shop")]
    changed = [RecordedEvent(0.0, "Paid", {"payment_id": 2, "amount": "4.5"}, "shop")]
    a = write_cassette(tmp_path / "a.jsonl", Cassette.build("a", events, start_time=START))
    b = write_cassette(tmp_path / "b.jsonl", Cassette.build("b", changed, start_time=START))
    paths = ["event_data.payment_id", "event_data.paymentid", "'amount'"]
    args = [arg for path in paths for arg in ("--ignore-field", path)]
    env = {k: v for k, v in os.environ.items() if k != "EVENTRECORDER_DEBUG"}
    result = subprocess.run(
        ["eventrecorder", "diff", a, b, *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "note: --ignore-field path 'event_data.paymentid' matches no field in any event's data"
    ]
