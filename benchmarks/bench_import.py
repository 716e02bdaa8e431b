"""What installing the plugin costs every pytest session of an environment.

The plugin is a pytest11 entry point, so it loads in every session, even one that uses no
cassette. Two measures, each the median of several fresh interpreters:

- ``python -X importtime``: the cumulative import time of the plugin's entry module minus
  that of ``pytest`` itself (target: <= 15 ms);
- wall time of ``pytest`` in an empty folder with the plugin and with ``-p no:eventrecorder``.

Usage: ``python benchmarks/bench_import.py [runs]`` (default 9).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_MS = 15.0
PLUGIN = "pytest_eventrecorder.pytest_plugin.plugin"
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$")


def cumulative_us(statement: str, module: str) -> int:
    """The cumulative import time (µs) of ``module`` while running ``statement``."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    times = {m[2]: int(m[1]) for m in map(_LINE.match, out.splitlines()) if m}
    return times[module]


def added_import_ms() -> float:
    """The plugin's import time beyond pytest's (µs -> ms) in one fresh interpreter."""
    with_plugin = cumulative_us(f"import pytest, {PLUGIN}", PLUGIN)
    return with_plugin / 1000


def pytest_ms(folder: str, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        check=False,  # exit 5: no tests collected
    )
    return (time.perf_counter() - started) * 1000


def main(runs: int) -> None:
    # pytest is imported first, so the plugin's figure is what it adds on top of pytest.
    added = statistics.median(added_import_ms() for _ in range(runs))
    verdict = "OK" if added <= TARGET_MS else "OVER"
    print(f"plugin import over pytest: {added:.1f} ms (limit {TARGET_MS:.0f} ms) {verdict}")
    with tempfile.TemporaryDirectory() as folder:
        pairs = [
            (pytest_ms(folder), pytest_ms(folder, "-p", "no:eventrecorder")) for _ in range(runs)
        ]
    with_plugin = statistics.median(p[0] for p in pairs)
    without = statistics.median(p[1] for p in pairs)
    print(
        f"pytest in an empty folder: {with_plugin:.0f} ms with the plugin, {without:.0f} ms "
        f"without (-p no:eventrecorder): +{with_plugin - without:.0f} ms, "
        f"ratio {with_plugin / without:.2f}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
