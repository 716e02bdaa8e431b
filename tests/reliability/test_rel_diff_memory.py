"""``eventrecorder diff`` of two large ``.jsonl`` files stays in bounded memory (the real
CLI in a subprocess; the peak RSS is read from inside a wrapper process, so children of
other tests do not count)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from pytest_eventrecorder import CassetteHeader, RecordedEvent
from pytest_eventrecorder.formats import write_events

EVENTS = 200_000
BOUND_MB = 200
"""Comparing whole files in memory took over 3x this for 200,000 events per side."""
MEASURE = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def events(count: int, drift: bool) -> Iterator[RecordedEvent]:
    for i in range(count):
        changed = drift and i % 20_000 == 7
        data = {"order_id": f"o-{i}", "amount": "12.50", "qty": i % 9, "changed": changed}
        yield RecordedEvent(i * 0.5, f"Event{i % 11}", data, f"source{i % 4}")


def test_a_200k_event_diff_keeps_its_peak_memory_bounded(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    for path, drift in ((a, False), (b, True)):
        write_events(
            path, CassetteHeader(path.name, "2025-10-17T10:00:00Z", 0, 0), events(EVENTS, drift)
        )
    out = tmp_path / "report.txt"
    command = [sys.executable, "-m", "pytest_eventrecorder", "diff", str(a), str(b)]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(out), *command],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    code, peak_kib = map(int, result.stdout.split())
    assert code == 1, result.stderr
    assert out.read_text().splitlines()[2] == "10 event differences (10 changed)"
    assert int(peak_kib) / 1024 < BOUND_MB
