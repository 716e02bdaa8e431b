"""The snapshot benchmark script runs end to end (tiny sizes; its figures are not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_eventrecorder import serialize

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(serialize._DUMPS is None, reason="orjson is its reference")
def test_snapshot_benchmark_runs_in_quick_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_snapshot.py"), "--quick"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert table[0].startswith("| shape | snapshot (µs) | without the extra (µs) | orjson (µs)")
    assert len(table) == 2 + 6  # a row per shape
    assert {line.rstrip().rsplit("|", 2)[-2].strip() for line in table[2:]} <= {"PASS", "MISS"}
