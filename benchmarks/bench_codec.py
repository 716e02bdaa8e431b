"""Reading cassettes with and without the ``[fast]`` extra, against references in the same run.

Each figure comes from a fresh child process (CPU time, and the peak memory over the start):

1. instant replay of a 1,000,000-event ``.jsonl``, with the extra and with the standard
   library alone (the extra blocked), against "decode + publish": the same file read in
   blocks, parsed by msgspec a batch of lines at a time and each parsed line handed to the
   bus (nothing checked, nothing built): target within 1.5x of it with the extra,
   >= 1M events/s with it and >= 600k events/s without;
2. a ``.json`` cassette of 200k and 1M events replayed, against the naive whole-file
   reference (``json.load`` then publish): no more time, no more memory;
3. a ``.yaml`` cassette read with libyaml's C loader against PyYAML's Python loader
   (what the reader used before): target >= 10x.

Each figure is the median of ``--rounds`` children per side (3), the sides alternated;
``--only jsonl|json|yaml`` measures one part. ``--quick`` shrinks every size and runs one
child per side, for a smoke test.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_core import (
    CountingAdapter,
    CountingBus,
    _instant_events,
    _rss_kb,
    _write_seed_json,
    decode_and_publish,
)

from pytest_eventrecorder.cassette import CassetteHeader
from pytest_eventrecorder.formats import read_cassette, write_events
from pytest_eventrecorder.replayer import EventReplayer

BLOCK = "import sys; sys.modules['msgspec'] = None; sys.modules['orjson'] = None"


def _replay(path: Path) -> int:
    bus = CountingAdapter()
    EventReplayer(path).replay(bus, speed_multiplier=math.inf)
    return bus.count


def _naive(path: Path) -> int:
    from _naive import NaiveReplayer

    bus = CountingBus()
    NaiveReplayer(path).replay(bus, speed_multiplier=math.inf)
    return bus.count


def _yaml_python(path: Path) -> int:
    import yaml

    with open(path, encoding="utf-8") as text:
        return len(yaml.load(text, Loader=yaml.SafeLoader)["events"])


def _yaml_ours(path: Path) -> int:
    return len(read_cassette(path).events)


SIDES: dict[str, Callable[[Path], int]] = {
    "decode+publish": decode_and_publish,
    "replay": _replay,
    "naive": _naive,
    "yaml-python": _yaml_python,
    "yaml-ours": _yaml_ours,
}


def run_child(side: str, path: Path) -> None:
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:  # reset the peak-RSS mark
        refs.write("5")
    before = _rss_kb("VmRSS")
    began = time.process_time()
    count = SIDES[side](path)
    seconds = time.process_time() - began
    extra = (_rss_kb("VmHWM") - before) / 1024
    print(json.dumps({"seconds": seconds, "extra_mb": extra, "count": count}))


def _child(side: str, path: Path, n: int, *, blocked: bool = False) -> tuple[float, float]:
    """(events per CPU second, extra MB) of one side in a fresh process."""
    prelude = BLOCK + "; " if blocked else ""
    code = f"{prelude}import runpy; sys.argv = [{__file__!r}, '--child', {side!r}, {str(path)!r}]"
    code += "; runpy.run_path(sys.argv[0], run_name='__main__')"
    if not blocked:
        code = "import sys; " + code
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    figures = json.loads(done.stdout)
    if figures["count"] != n:
        raise RuntimeError(f"{side} published {figures['count']} of {n} events")
    return n / figures["seconds"], figures["extra_mb"]


def _line(name: str, value: str, limit: str, ok: bool) -> str:
    return f"| {name} | {value} | {limit} | {'PASS' if ok else 'MISS'} |"


Side = tuple[str, bool]
"""A child's side and whether the ``[fast]`` extra is blocked in it."""


def _medians(sides: list[Side], path: Path, n: int, rounds: int) -> list[tuple[float, float]]:
    """Each side's median (events per CPU second, extra MB) over ``rounds`` fresh children,
    the sides alternated in each round so a busy spell of the machine hits them alike."""
    runs: list[list[tuple[float, float]]] = [[] for _ in sides]
    for _ in range(rounds):
        for figures, (side, blocked) in zip(runs, sides, strict=True):
            figures.append(_child(side, path, n, blocked=blocked))
    return [
        (statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures))
        for figures in runs
    ]


def bench_jsonl(tmp: Path, n: int, rounds: int) -> list[str]:
    path = tmp / "instant.jsonl"
    write_events(path, CassetteHeader("instant", "2025-10-17T10:00:00Z"), _instant_events(n))
    sides = [("decode+publish", False), ("replay", False), ("replay", True)]
    (reference, _), (fast, fast_mb), (plain, plain_mb) = _medians(sides, path, n, rounds)
    return [
        _line("decode + publish, reference (events/s)", f"{reference:,.0f}", "", True),
        _line("replay with [fast] (events/s)", f"{fast:,.0f}", ">= 1,000,000", fast >= 1e6),
        _line(
            "  its time / the reference's",
            f"{reference / fast:.2f}x",
            "<= 1.5x",
            reference / fast <= 1.5,
        ),
        _line("replay, standard library (events/s)", f"{plain:,.0f}", ">= 600,000", plain >= 6e5),
        _line("  extra memory, [fast] / stdlib (MB)", f"{fast_mb:.0f} / {plain_mb:.0f}", "", True),
    ]


def bench_json(tmp: Path, n: int, rounds: int) -> list[str]:
    path = tmp / f"seed_{n}.json"
    _write_seed_json(path, n)
    sides = [("naive", False), ("replay", False), ("replay", True)]
    (naive, naive_mb), (ours, ours_mb), (plain, plain_mb) = _medians(sides, path, n, rounds)
    rows = [_line(f".json {n:,}: naive (events/s, MB)", f"{naive:,.0f}, {naive_mb:.0f}", "", True)]
    for label, speed, mb in (("[fast]", ours, ours_mb), ("stdlib", plain, plain_mb)):
        rows.append(
            _line(
                f".json {n:,}: ours {label} (events/s, MB)",
                f"{speed:,.0f}, {mb:.0f} ({naive / speed:.2f}x time, {mb / naive_mb:.2f}x MB)",
                "<= 1x both",
                speed >= naive and mb <= naive_mb,
            )
        )
    return rows


def bench_yaml(tmp: Path, n: int) -> list[str]:
    path = tmp / "c.yaml"
    write_events(path, CassetteHeader("yaml", "2025-10-17T10:00:00Z"), _instant_events(n))
    python, _ = _child("yaml-python", path, n)
    ours, _ = _child("yaml-ours", path, n)
    return [
        _line(
            f".yaml {n:,} read: C loader / Python loader",
            f"{ours / python:.1f}x",
            ">= 10x",
            ours / python >= 10,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--rounds", type=int, default=3, help="children per side (median)")
    parser.add_argument(
        "--only", choices=PARTS, action="append", help="measure only this part (repeatable)"
    )
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]))
        return 0
    big, json_sizes, yaml_n = (
        (20_000, (2_000,), 500) if args.quick else (1_000_000, (200_000, 1_000_000), 20_000)
    )
    rounds, parts = (1 if args.quick else args.rounds), args.only or PARTS
    print(
        f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs (CPU seconds per side, "
        f"medians of {rounds} children)"
    )
    print("| measurement | figure | target | verdict |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench_codec_") as folder:
        tmp = Path(folder)
        rows: list[Callable[[], list[str]]] = []
        if "jsonl" in parts:
            rows.append(functools.partial(bench_jsonl, tmp, big, rounds))
        if "json" in parts:
            rows += [functools.partial(bench_json, tmp, n, rounds) for n in json_sizes]
        if "yaml" in parts:
            rows.append(functools.partial(bench_yaml, tmp, yaml_n))
        for part in rows:
            for row in part():
                print(row, flush=True)
    return 0


PARTS = ("jsonl", "json", "yaml")


if __name__ == "__main__":
    sys.exit(main())
