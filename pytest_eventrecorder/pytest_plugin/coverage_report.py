"""``pytest --event-coverage=RECORDING``: what of the traffic in recordings the cassettes of
the tests that ran exercise, in the terminal summary (``eventrecorder coverage`` is the same
measure from the command line, over the cassettes in folders).

Each test that opens a cassette (the ``event_cassette`` fixture or marker, or
``event_replay``) notes its path; under pytest-xdist each worker hands its paths to the
controller through ``config.workeroutput``, and the controller measures once the run ends,
reading the cassettes then (so a cassette recorded in this run counts).

This module loads in every session (it registers the options), so it imports only the
standard library and pytest; the measuring code is imported when the option is given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .settings import CASSETTE, GROUP

WIRE_KEY = "eventrecorder_coverage_cassettes"
TOP = 10


def add_coverage_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP)
    group.addoption(
        "--event-coverage",
        action="append",
        default=[],
        metavar="RECORDING",
        help="report which event names, sources and payload shapes seen in RECORDING (a "
        "recording of real traffic; repeatable) the cassettes of the tests that ran exercise.",
    )
    group.addoption(
        "--event-coverage-fail-under",
        type=float,
        default=None,
        metavar="PERCENT",
        help="fail the run when --event-coverage is below PERCENT.",
    )


def register_coverage(config: pytest.Config) -> None:
    """Start measuring when ``--event-coverage`` is given; a missing file is a usage error."""
    recordings = [Path(p) for p in config.getoption("event_coverage")]
    if not recordings:
        return
    for path in recordings:
        if not path.is_file():
            raise pytest.UsageError(f"--event-coverage: {path}: no such file")
    fail_under = config.getoption("event_coverage_fail_under")
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise pytest.UsageError("--event-coverage-fail-under must be a percentage, 0 to 100")
    config.pluginmanager.register(EventCoverage(recordings, fail_under), "eventrecorder-coverage")


class EventCoverage:
    """The session's hooks: note cassettes, gather workers', measure and report at the end."""

    def __init__(self, recordings: list[Path], fail_under: float | None) -> None:
        self.recordings = recordings
        self.fail_under = fail_under
        self.cassettes: set[str] = set()
        self.lines: list[str] = []

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        cassette = item.stash.get(CASSETTE, None)
        if cassette is not None and cassette.mode in ("record", "replay"):
            self.cassettes.add(str(cassette.path))
        replay = getattr(item, "funcargs", {}).get("event_replay")
        if replay is not None and getattr(replay, "path", None) is not None:
            self.cassettes.add(str(replay.path))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        self.cassettes.update(getattr(node, "workeroutput", {}).get(WIRE_KEY, ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        config = session.config
        if hasattr(config, "workeroutput"):  # an xdist worker: the controller measures
            config.workeroutput[WIRE_KEY] = sorted(self.cassettes)
            return
        percent = self.measure()
        below = percent is None or (self.fail_under is not None and percent < self.fail_under)
        if below and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def measure(self) -> float | None:
        """Fill :attr:`lines`; the overall percentage, or None when a file cannot be read."""
        from ..cassette import CassetteError
        from ..eventcoverage import census, measure, report_lines

        files = sorted(p for p in map(Path, self.cassettes) if p.is_file())
        try:
            result = measure(_events(self.recordings), census(_events(files)))
        except (CassetteError, OSError) as exc:
            self.lines = [f"event coverage could not be measured: {exc}"]
            return None
        plural = "" if len(files) == 1 else "s"
        self.lines = [
            f"event coverage of {result.events:,} recorded events by {len(files)} "
            f"cassette{plural} of the tests that ran:",
            *report_lines(result, top=TOP),
        ]
        if self.fail_under is not None and result.percent < self.fail_under:
            self.lines.append(f"event coverage {result.percent:.1f}% is under {self.fail_under:g}%")
        return result.percent

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            terminalreporter.write_sep("=", "event coverage")
            for line in self.lines:
                terminalreporter.write_line(line)


def _events(paths: list[Path]) -> Iterator[Any]:
    """Every event of the files, streamed (a .jsonl is never held whole)."""
    from ..replayer import EventReplayer

    return itertools.chain.from_iterable(EventReplayer(p) for p in paths)
