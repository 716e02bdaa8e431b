"""YAML cassettes: reading and writing against the pure-Python PyYAML path, in the same run.

    python benchmarks/bench_yaml.py [--events N] [--runs R] [--quick]

A cassette of ``N`` events (default 100,000; the bench_core instant events) is written and
read back by ``write_events``/``read_cassette``, each side in a fresh process (CPU time;
extra memory is the peak RSS over the RSS before the operation), median of ``R`` runs:

- "pure Python" is the path as it was before libyaml: PyYAML's Python dumper (libyaml's
  emitter blocked) and its Python loader with the garbage collector left running;
- "ours" is what the code does now (libyaml's emitter and C loader, both when PyYAML has them).

Target: ours >= 10x the pure-Python speed, reading and writing. Both sides write the same
bytes (checked).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_core import _instant_events, _rss_kb

from pytest_eventrecorder import codec, formats, yamlformat
from pytest_eventrecorder.cassette import CassetteHeader
from pytest_eventrecorder.formats import read_cassette, write_events

TARGET = 10.0


def _pure_python() -> None:
    """The YAML path before libyaml: its emitter and loader blocked, the collector running."""
    yamlformat._CEmitter = None
    formats._C_SAFE_LOADER = None
    codec.gc_paused = _collector_running  # type: ignore[assignment]


def _collector_running(**_options: object) -> contextlib.nullcontext[None]:
    """``codec.gc_paused`` that leaves the collector alone, whatever it is asked."""
    return contextlib.nullcontext()


def run_child(op: str, side: str, path: Path, n: int) -> None:
    if side == "python":
        _pure_python()
    events = list(_instant_events(n)) if op == "write" else []
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:  # reset the peak-RSS mark
        refs.write("5")
    before = _rss_kb("VmRSS")
    began = time.process_time()
    if op == "write":
        write_events(path, CassetteHeader("yaml", "2025-10-17T10:00:00Z"), events)
        count = len(events)
    else:
        count = len(read_cassette(path).events)
    seconds = time.process_time() - began
    extra = (_rss_kb("VmHWM") - before) / 1024
    print(json.dumps({"seconds": seconds, "extra_mb": extra, "count": count}))


def _child(op: str, side: str, path: Path, n: int) -> tuple[float, float]:
    """(events per CPU second, extra MB) of one operation in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", op, side, str(path), "--events", str(n)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    figures = json.loads(done.stdout)
    if figures["count"] != n:
        raise RuntimeError(f"{op} {side} handled {figures['count']} of {n} events")
    return n / figures["seconds"], figures["extra_mb"]


def _median(op: str, side: str, path: Path, n: int, runs: int) -> tuple[float, float]:
    figures = [_child(op, side, path, n) for _ in range(runs)]
    return statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)


def _row(op: str, python: tuple[float, float], ours: tuple[float, float]) -> str:
    ratio = ours[0] / python[0]
    verdict = "PASS" if ratio >= TARGET else "MISS"
    return (
        f"| {op} | {python[0]:,.0f} ev/s, {python[1]:,.0f} MB | {ours[0]:,.0f} ev/s, "
        f"{ours[1]:,.0f} MB | {ratio:.1f}x | >= {TARGET:.0f}x | {verdict} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2,000 events, one run")
    parser.add_argument("--child", nargs=3, metavar=("OP", "SIDE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], args.child[1], Path(args.child[2]), args.events)
        return 0
    n, runs = (2_000, 1) if args.quick else (args.events, args.runs)
    print(
        f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; {n:,} events, median of "
        f"{runs} (CPU time; MB: peak RSS over the start)"
    )
    print("| operation | pure Python | ours | speed-up | target | verdict |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench_yaml_") as folder:
        python_path, ours_path = Path(folder) / "python.yaml", Path(folder) / "ours.yaml"
        write = (
            _median("write", "python", python_path, n, runs),
            _median("write", "ours", ours_path, n, runs),
        )
        if python_path.read_bytes() != ours_path.read_bytes():
            raise RuntimeError("the two writers wrote different files")
        print(_row("write", *write), flush=True)
        read = (
            _median("read", "python", ours_path, n, runs),
            _median("read", "ours", ours_path, n, runs),
        )
        print(_row("read", *read), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
