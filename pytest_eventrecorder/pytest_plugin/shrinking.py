"""``eventrecorder shrink``'s pytest plugin: ``-p pytest_eventrecorder.pytest_plugin.shrinking``.

Loaded into ONE pytest session that collects the chosen test, it takes over the run loop
and runs that test again and again in this process (``pytest_runtest_protocol`` with no
next item, so every fixture is set up and torn down each time, as pytest-rerunfailures
does), each time replaying another subset of the recording's inputs through the
:mod:`.replay_instead` override, and reads pass or fail from the test reports. Delta
debugging (:func:`~pytest_eventrecorder.shrink.ddmin`) picks the subsets. Starting a
pytest process per subset would cost seconds each; this costs milliseconds.

The outcome goes to a JSON report for the command; progress to a small file it polls.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ..cassette import Cassette, RecordedEvent
from ..formats import write_cassette
from ..replayer import EventReplayer
from ..shrink import Candidate, NotReproducible, ddmin
from .options import InputSelector
from .replay_instead import REPLAY_INSTEAD, ReplayInstead


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventrecorder shrink")
    group.addoption("--event-shrink", metavar="RECORDING", help="the recording to shrink")
    group.addoption("--event-shrink-report", metavar="PATH", help="where the outcome goes")
    group.addoption("--event-shrink-output", metavar="PATH", help="the minimal cassette")
    group.addoption("--event-shrink-max-runs", type=int, default=500, metavar="N")


SHRINKER = pytest.StashKey["Shrinker"]()


def pytest_configure(config: pytest.Config) -> None:
    recording = config.getoption("event_shrink")
    if not recording:
        return
    shrinker = Shrinker(Path(recording), Path(config.getoption("event_shrink_report")))
    config.stash[SHRINKER] = shrinker
    config.stash[REPLAY_INSTEAD] = ReplayInstead(shrinker.cassette_for)
    config.pluginmanager.register(shrinker, "eventrecorder-shrinker")


def pytest_unconfigure(config: pytest.Config) -> None:
    shrinker = config.stash.get(SHRINKER, None)
    if shrinker is not None:
        shutil.rmtree(shrinker.folder, ignore_errors=True)


class Shrinker:
    """Runs the test on candidates and remembers whether any report of a run failed."""

    def __init__(self, recording: Path, report: Path) -> None:
        self.recording = recording
        self.report = report
        self.progress = report.with_suffix(".progress")
        self.inputs: list[RecordedEvent] | None = None
        self.candidate: Candidate | None = None
        self.failed = False
        self.folder = Path(tempfile.mkdtemp(prefix="eventrecorder-shrink-"))

    def cassette_for(self, is_input: InputSelector) -> Path:
        """The current candidate's inputs, as a file the test's cassette replays."""
        if self.inputs is None:  # the test's own inputs= selector, learnt on the first run
            self.inputs = [e for e in EventReplayer(self.recording) if is_input(e)]
        chosen = self.chosen()
        path = self.folder / "candidate.json"
        write_cassette(path, Cassette.build("shrink candidate", chosen))
        return path

    def chosen(self) -> list[RecordedEvent]:
        assert self.inputs is not None
        if self.candidate is None:
            return list(self.inputs)
        return [self.inputs[i] for i in self.candidate]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed = True

    def run(self, item: pytest.Item, candidate: Candidate | None) -> bool:
        """Whether the test fails with these inputs (``None``: all of them)."""
        self.candidate, self.failed = candidate, False
        item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
        return self.failed

    def note_progress(self, runs: int, smallest: int) -> None:
        self.progress.write_text(f"{runs} {smallest}\n")

    def write(self, outcome: dict[str, Any]) -> None:
        self.report.write_text(json.dumps(outcome))


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    shrinker = session.config.stash.get(SHRINKER, None)
    if shrinker is None:
        return None
    if len(session.items) != 1:
        shrinker.write({"status": "not one test", "collected": len(session.items)})
        return True
    item = session.items[0]
    shrinker.write(_shrink(session, item, shrinker))
    return True


def _shrink(session: pytest.Session, item: pytest.Item, shrinker: Shrinker) -> dict[str, Any]:
    test = _test_of(item)
    if not shrinker.run(item, None):
        return {"status": "passes", "test": test, "replayed": shrinker.inputs is not None}
    if shrinker.inputs is None:
        return {"status": "no cassette", "test": test}
    max_runs = session.config.getoption("event_shrink_max_runs")
    try:
        shrunk = ddmin(
            len(shrinker.inputs),
            lambda c: shrinker.run(item, c),
            max_runs=max_runs,
            progress=shrinker.note_progress,
        )
    except NotReproducible:  # failed once with everything, then passed: flaky
        return {"status": "flaky", "test": test}
    shrinker.candidate = shrunk.kept
    if shrunk.kept:  # none kept: the test fails without the recording; nothing to keep
        write_cassette(Path(session.config.getoption("event_shrink_output")), _minimal(shrinker))
    return {
        "status": "shrunk",
        "test": test,
        "inputs": len(shrinker.inputs),
        "kept": len(shrunk.kept),
        "runs": shrunk.runs + 1,
        "minimal": shrunk.minimal,
    }


def _minimal(shrinker: Shrinker) -> Cassette:
    """The kept inputs exactly as recorded (offsets too), and where they came from."""
    return Cassette.build(
        f"{shrinker.recording.stem} (shrunk)",
        shrinker.chosen(),
        metadata={"shrunk_from": str(shrinker.recording), "kept": list(shrinker.candidate or ())},
    )


def _test_of(item: pytest.Item) -> dict[str, Any]:
    """What the command needs to write a test replaying the minimal cassette."""
    function = getattr(item, "originalname", item.name)
    cls = getattr(item, "cls", None)
    return {
        "nodeid": item.nodeid,
        "path": str(item.path),
        "function": function,
        "class": cls.__name__ if cls is not None else None,
    }
