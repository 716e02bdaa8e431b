"""examples/beyond_replay does what its README says: explore finds the redelivered deposit,
shrink finds the three events that corrupt the book, --event-coverage names what is missed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "beyond_replay"
QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:benchmark")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The README's walk-through is a developer's first run, which records; under CI=true the
    # plugin would refuse to record (record mode none), so the example runs without it.
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return subprocess.run(
        [sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_beyond_replay_example(tmp_path: Path) -> None:
    folder = tmp_path / "beyond_replay"
    shutil.copytree(EXAMPLE, folder)
    first = run(folder, "-m", "pytest", *QUIET)
    assert first.returncode == 1, first.stdout
    assert "1 failed, 1 passed" in first.stdout
    assert "delivered twice" in first.stdout
    made = run(folder, "make_traffic.py", "--events", "400")
    assert "wrote 400 events" in made.stdout
    shrunk = run(
        folder,
        *("-m", "pytest_eventrecorder", "shrink", "recordings/prod.jsonl"),
        *("--test", "tests/test_book.py::test_book", "-o", "tests/minimal.json"),
    )
    assert shrunk.returncode == 0, shrunk.stderr
    assert "kept 3 of " in shrunk.stdout
    replayed = run(folder, "-m", "pytest", *QUIET, "tests/test_book_minimal.py")
    assert "corrupted orders: [7]" in replayed.stdout
    covered = run(
        folder,
        "-m",
        "pytest",
        *QUIET,
        "tests/test_book.py",
        "--event-coverage=recordings/prod.jsonl",
    )
    assert covered.returncode == 0, covered.stdout
    assert "event name Deposit" in covered.stdout
    assert "event name Heartbeat" in covered.stdout
