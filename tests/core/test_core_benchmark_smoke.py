"""The core benchmark script runs end to end (tiny sizes; its figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_core.py"


def test_benchmark_runs_in_quick_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| Measurement | naive reference | pytest-eventrecorder |")
    assert len(table) == 12
    verdicts = [line.rstrip().rsplit("|", 2)[-2].strip() for line in table[2:]]
    assert set(verdicts) <= {"PASS", "MISS", ""}
    assert verdicts.count("") == 2  # record() by hand, dict events: shown, with no target
    assert list(tmp_path.iterdir()) == []  # scratch files live in a temporary folder
