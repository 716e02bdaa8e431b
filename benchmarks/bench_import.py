"""What installing the plugin costs every pytest session of an environment.

The plugin is a pytest11 entry point, so it loads in every session, even one that uses no
cassette. Two measures, each the median of several fresh interpreters:

- ``python -X importtime``: the cumulative import time of the plugin's entry module minus
  that of ``pytest`` itself (target: <= 15 ms);
- wall time of ``pytest`` in an empty folder with the plugin and with ``-p no:eventrecorder``.

Bytecode is cached (in a temporary ``pycache_prefix``, as an installed package has its
``.pyc`` files), so the figures do not include compiling sources, even under
``PYTHONDONTWRITEBYTECODE``. Usage: ``python benchmarks/bench_import.py [runs]`` (default 9).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_MS = 15.0
PLUGIN = "pytest_eventrecorder.pytest_plugin.plugin"
_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$")


class Python:
    """Runs a fresh interpreter that caches bytecode in ``cache`` (out of the source tree)."""

    def __init__(self, cache: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.prefix = [sys.executable, "-X", f"pycache_prefix={cache}"]

    def run(self, *args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, env=self.env, cwd=cwd
        )


def cumulative_us(python: Python, statement: str, module: str) -> int:
    """The cumulative import time (µs) of ``module`` while running ``statement``."""
    out = python.run("-X", "importtime", "-c", statement).stderr
    times = {m[2]: int(m[1]) for m in map(_LINE.match, out.splitlines()) if m}
    return times[module]


def added_import_ms(python: Python) -> float:
    """The plugin's import time beyond pytest's (µs -> ms) in one fresh interpreter:
    pytest is imported first, so the plugin's own figure is what it adds."""
    return cumulative_us(python, f"import pytest, {PLUGIN}", PLUGIN) / 1000


def pytest_ms(python: Python, folder: str, *args: str) -> float:
    started = time.perf_counter()
    python.run("-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=folder)  # exit 5
    return (time.perf_counter() - started) * 1000


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as folder:
        python = Python(cache)
        pytest_ms(python, folder)  # compiles and caches every module once
        measure(python, folder, runs)


def measure(python: Python, folder: str, runs: int) -> None:
    samples = [added_import_ms(python) for _ in range(runs)]
    added = statistics.median(samples)
    verdict = "OK" if added <= TARGET_MS else "OVER"
    print(
        f"plugin import over pytest: median {added:.1f} ms (limit {TARGET_MS:.0f} ms) {verdict}; "
        f"fastest {min(samples):.1f} ms (the machine's load inflates the median)"
    )
    pairs = [
        (pytest_ms(python, folder), pytest_ms(python, folder, "-p", "no:eventrecorder"))
        for _ in range(runs)
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
