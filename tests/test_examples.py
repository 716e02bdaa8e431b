"""The examples in examples/event_recorder run as scripts and do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "event_recorder"


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_basic_recording(tmp_path: Path) -> None:
    out = run_example("basic_recording.py", tmp_path)
    assert "recording saved to: recordings/bull_run_2025_" in out
    assert "MarketDataReceived: 60x" in out
    assert "Replayed trades match the live ones: True" in out
    assert len(list((tmp_path / "recordings").glob("bull_run_2025_*.json"))) == 1


def test_filtered_replay(tmp_path: Path) -> None:
    out = run_example("filtered_replay.py", tmp_path)
    assert "streamed to recordings/trading_session.jsonl" in out
    assert "Failures only:" in out
    assert "ETH/USDT orders only:" in out
    assert "(100.0%)" in out
    assert (tmp_path / "recordings" / "trading_session.jsonl").is_file()


def test_performance_test(tmp_path: Path) -> None:
    out = run_example("performance_test.py", tmp_path, "--events", "3000")
    assert "Wrote 3,000 events" in out
    assert "Instant replay: 3,000 events" in out
    assert "replay of" in out
    assert "drift of the last event" in out
    assert "Async replay:" in out
