"""``--where`` over Decimals as they are recorded (strings): the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from pytest_eventrecorder import EventRecorder, read_cassette

pytestmark = pytest.mark.skipif(
    shutil.which("eventrecorder") is None, reason="console script not installed"
)
ENV = {k: v for k, v in os.environ.items() if k != "EVENTRECORDER_DEBUG"}


def eventrecorder(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["eventrecorder", *map(str, args)], capture_output=True, text=True, timeout=60, env=ENV
    )


@pytest.fixture
def payments(tmp_path: Path) -> Path:
    recorder = EventRecorder("payments", tmp_path)
    recorder.start_recording(None)
    for amount in ("12.00", "40.10", "99.99", "40"):
        recorder.record("Paid", {"amount": Decimal(amount), "code": "n/a"}, "shop")
    recorder.stop_recording()
    return recorder.save(tmp_path / "payments.jsonl")


def test_where_compares_recorded_decimals_by_value(payments: Path, tmp_path: Path) -> None:
    out = tmp_path / "big.jsonl"
    result = eventrecorder("filter", payments, "-o", out, "--where", "event_data.amount > 40")
    assert result.returncode == 0, result.stderr
    assert [e.event_data["amount"] for e in read_cassette(out).events] == ["40.10", "99.99"]


def test_where_ordering_a_number_with_other_text_is_an_error_naming_the_field(
    payments: Path, tmp_path: Path
) -> None:
    result = eventrecorder(
        "filter", payments, "-o", tmp_path / "x.jsonl", "--where", "event_data.code > 40"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: cannot compare event_data.code ('n/a') with 40 using '>': 'n/a' is not a "
        "number (at column 1)"
    )
    assert not (tmp_path / "x.jsonl").exists()
