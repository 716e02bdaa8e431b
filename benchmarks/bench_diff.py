"""Memory and time of comparing two large ``.jsonl`` cassettes.

    python benchmarks/bench_diff.py [--events N] [--quick] [--api]

Writes a recording of N events (default 1,000,000) and a rerun that drifts from it: a
changed event every 5,000, one inserted, one deleted and one moved event. Then compares them
with the real ``eventrecorder diff`` (text, and ``--json``) in a fresh process each, and
prints the peak RSS of that process against the 200 MB limit. ``--api`` also measures
``/api/diff`` through Flask's test client (opening both recordings included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pytest_eventrecorder import CassetteHeader, RecordedEvent
from pytest_eventrecorder.formats import write_events

LIMIT_MB = 200.0
CHANGE_EVERY = 5000
START = "2025-10-17T10:00:00Z"

MEASURE = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Runs a command with its output in a file; prints its exit code and peak RSS (KiB)."""

API = """
import sys
from pathlib import Path
from pytest_eventrecorder.server import EventRecorderServer
from pytest_eventrecorder.config import EventRecorderConfig
folder = Path(sys.argv[1])
server = EventRecorderServer(EventRecorderConfig(recordings_dir=folder))
client = server.app.test_client()
answer = client.get("/api/diff?a=a.jsonl&b=b.jsonl")
body = answer.get_json()
print(answer.status_code, body.get("total_differences"), file=sys.stderr)
"""


def event(i: int, changed: bool = False) -> RecordedEvent:
    data = {"order_id": f"o-{i}", "price": "101.25", "qty": i % 7, "changed": changed}
    return RecordedEvent(i * 0.5, f"Event{i % 11}", data, f"source{i % 4}")


def recording(count: int) -> Iterator[RecordedEvent]:
    return (event(i) for i in range(count))


def rerun(count: int) -> Iterator[RecordedEvent]:
    moved_from, moved_to = count // 4, count // 4 + 50
    for i in range(count):
        if i == count // 2:
            continue  # deleted
        if i == count // 3:
            yield RecordedEvent(i * 0.5, "Inserted", {}, "source0")
        if i == moved_from:
            continue
        yield event(i, changed=i % CHANGE_EVERY == 1)
        if i == moved_to:
            yield event(moved_from)


def write_pair(folder: Path, count: int) -> tuple[Path, Path]:
    a, b = folder / "a.jsonl", folder / "b.jsonl"
    for path, events in ((a, recording(count)), (b, rerun(count))):
        write_events(path, CassetteHeader(path.stem, START, 0.0, 0), events)
    return a, b


def measure(command: list[str], output: Path) -> tuple[int, float, float]:
    """Exit code, peak RSS in MB and seconds of ``command`` in a fresh process."""
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(output), *command],
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak_kib = result.stdout.split()
    return int(code), int(peak_kib) / 1024, time.perf_counter() - began


def report(label: str, code: int, peak_mb: float, seconds: float) -> None:
    verdict = "OK" if peak_mb <= LIMIT_MB else "OVER"
    print(
        f"{label:<28} exit {code}  peak {peak_mb:7.1f} MB  "
        f"({peak_mb / LIMIT_MB:.2f} x the {LIMIT_MB:.0f} MB limit: {verdict})  {seconds:6.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events (a smoke run)")
    parser.add_argument("--api", action="store_true", help="also measure /api/diff")
    args = parser.parse_args()
    count = 20_000 if args.quick else args.events
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        a, b = write_pair(folder, count)
        size = (a.stat().st_size + b.stat().st_size) / 2**20
        print(f"{count:,} events per side, {size:.0f} MB of .jsonl, written in "
              f"{time.perf_counter() - began:.1f} s")
        cli = [sys.executable, "-m", "pytest_eventrecorder", "diff", str(a), str(b)]
        out = folder / "out.txt"
        report("eventrecorder diff", *measure(cli, out))
        lines = out.read_text().splitlines()
        print(f"  {lines[2] if len(lines) > 2 else lines}")
        report("eventrecorder diff --json", *measure([*cli, "--json"], out))
        print(f"  {len(json.loads(out.read_text())['differences'])} differences in the JSON")
        if args.api:
            report("/api/diff (test client)", *measure([sys.executable, "-c", API, tmp], out))


if __name__ == "__main__":
    main()
