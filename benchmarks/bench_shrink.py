"""What ``eventrecorder shrink`` costs on the issue's example: a 2,000-event recording in
which one sequence of three events makes a test fail (examples/beyond_replay). Target:
<= 60 s. Beside it, the reference it avoids: one pytest process per run, estimated as the
number of runs times one measured ``pytest`` of the same test.

Usage: ``python benchmarks/bench_shrink.py [--events 2000]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "beyond_replay"
LIMIT_S = 60.0


def timed(folder: Path, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=folder, capture_output=True, text=True, check=False
    )
    return time.perf_counter() - started, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    events = parser.parse_args().events
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "beyond_replay"
        shutil.copytree(EXAMPLE, folder)
        timed(folder, "make_traffic.py", "--events", str(events))
        took, out = timed(
            folder,
            *("-m", "pytest_eventrecorder", "shrink", "recordings/prod.jsonl"),
            *("--test", "tests/test_book.py::test_book", "-o", "tests/minimal.json"),
        )
        found = re.search(r"kept ([\d,]+) of ([\d,]+) inputs in ([\d,]+) runs", out)
        if found is None:
            raise SystemExit(f"shrink failed:\n{out}")
        kept, inputs, runs = (int(g.replace(",", "")) for g in found.groups())
        one, _ = timed(folder, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_book.py")
    verdict = "pass" if took <= LIMIT_S else "FAIL"
    print(
        f"shrink, {events:,} events ({inputs:,} inputs): kept {kept} in {runs} runs, {took:.1f} s"
    )
    print(f"  limit {LIMIT_S:.0f} s: {verdict} ({took / LIMIT_S:.2f} of the limit)")
    print(
        f"  one pytest process per run (reference): {runs} x {one:.2f} s = {runs * one:.0f} s "
        f"({runs * one / took:.1f}x slower)"
    )


if __name__ == "__main__":
    main()
