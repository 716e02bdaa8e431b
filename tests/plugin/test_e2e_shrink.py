"""``eventrecorder shrink``: the smallest part of a recording that still fails a test, found
by delta debugging in one pytest subprocess, written as a cassette and a ready test."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.cassette import Cassette
from pytest_eventrecorder.formats import write_cassette

BOOK = '''
    """An order book with a planted bug: a fill for an order closed after it was opened
    corrupts the book (the 3-event sequence Open, Close, Fill for one order)."""


    class Book:
        def __init__(self, bus):
            self.state, self.corrupted = {}, []
            for name in ("Open", "Close", "Fill"):
                bus.subscribe(name, getattr(self, "on_" + name.lower()))

        def on_open(self, event):
            self.state[event["id"]] = "open"

        def on_close(self, event):
            if self.state.get(event["id"]) == "open":
                self.state[event["id"]] = "closed"

        def on_fill(self, event):
            if self.state.get(event["id"]) == "closed":
                self.corrupted.append(event["id"])
'''

TEST = """
    import pytest
    from book import Book


    @pytest.mark.event_cassette(inputs=["Open", "Close", "Fill"])
    def test_book(service_bus, event_cassette):
        book = Book(service_bus)
        event_cassette.play(live=lambda: None)
        assert not book.corrupted, f"corrupted orders: {book.corrupted}"
"""


def _recording(path: Path, *, planted: bool, size: int = 2000) -> None:
    """``size`` events over many orders, none of them in the fatal order, except order
    7's Open, Close, Fill when ``planted``; Ack outputs in between."""
    rng = random.Random(5)
    events: list[RecordedEvent] = []
    for n in range(size):
        order = rng.randrange(100, 400)
        name = rng.choice(["Open", "Fill", "Ack"])  # never Close: nothing else can fire
        events.append(RecordedEvent(float(n), name, {"id": order}, "exchange"))
    if planted:
        for at, name in ((300, "Open"), (1100, "Close"), (1700, "Fill")):
            events[at] = RecordedEvent(float(at), name, {"id": 7}, "exchange")
    write_cassette(path, Cassette.build("prod", events))


def _shrink(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_eventrecorder", "shrink", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def shrink_project(project: pytest.Pytester) -> Path:
    project.makepyfile(book=textwrap.dedent(BOOK), test_book=textwrap.dedent(TEST))
    # shrinking runs in one process even where the project spreads tests over workers
    project.makeini("[pytest]\naddopts = -n 2\nasyncio_default_fixture_loop_scope = function\n")
    return project.path


def test_shrink_finds_the_three_fatal_events_and_writes_a_replaying_test(
    shrink_project: Path,
) -> None:
    _recording(shrink_project / "prod.jsonl", planted=True)
    done = _shrink(
        shrink_project, "prod.jsonl", "--test", "test_book.py::test_book", "-o", "minimal.json"
    )
    assert done.returncode == 0, done.stderr + done.stdout
    minimal = json.loads((shrink_project / "minimal.json").read_text())
    kept = [(e["event_name"], e["event_data"]["id"]) for e in minimal["events"]]
    assert kept == [("Open", 7), ("Close", 7), ("Fill", 7)]
    assert [e["timestamp_offset_ms"] for e in minimal["events"]] == [300, 1100, 1700]
    assert "kept 3 of " in done.stdout
    assert "test_book_minimal.py" in done.stdout
    assert "runs" in done.stderr  # the progress bar
    # the generated test replays minimal.json through the test's own body, and fails as it did
    generated = shrink_project / "test_book_minimal.py"
    source = generated.read_text()
    assert 'assert not book.corrupted, f"corrupted orders: {book.corrupted}"' in source
    assert "from book import Book" in source
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(generated)],
        cwd=shrink_project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout
    assert "corrupted orders: [7]" in run.stdout


def test_shrink_stops_when_the_recording_is_not_the_cause(shrink_project: Path) -> None:
    _recording(shrink_project / "prod.jsonl", planted=False, size=200)
    done = _shrink(shrink_project, "prod.jsonl", "--test", "test_book.py::test_book")
    assert done.returncode == 1
    assert "the test passes with the whole recording" in done.stderr
    assert not (shrink_project / "minimal.json").exists()
    failing = (shrink_project / "test_book.py").read_text().replace("assert not", "assert")
    (shrink_project / "test_book.py").write_text(failing)  # fails whatever is replayed
    done = _shrink(shrink_project, "prod.jsonl", "--test", "test_book.py::test_book")
    assert done.returncode == 1
    assert "fails even when none of the recording's inputs is replayed" in done.stderr
    assert not (shrink_project / "minimal.json").exists()


def test_shrink_names_a_test_that_does_not_exist(shrink_project: Path) -> None:
    _recording(shrink_project / "prod.jsonl", planted=False, size=50)
    done = _shrink(shrink_project, "prod.jsonl", "--test", "test_book.py::test_nothing")
    assert done.returncode == 2
    assert "Error:" in done.stderr
    assert "test_book.py::test_nothing" in done.stderr
