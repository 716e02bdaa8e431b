"""Tests that replay one cassette share it while none changes it; a changed file, or a test
that was handed the events, makes the next test read it again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plugin_e2e import Runner, write_test

from pytest_eventrecorder import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette
from pytest_eventrecorder.pytest_plugin.loaded import LoadedCassette

SHARED = """
    import pytest
    from busapp import live_feed

    @pytest.mark.parametrize("n", [0, 1, 2])
    @pytest.mark.event_cassette("shared", inputs=["PriceTick"])
    def test_shared(service_bus, bot, event_cassette, n):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert len(bot.orders) == 2
        if n == 1:  # every tick now under the limit: 4 orders, if a later test replayed it
            for event in event_cassette.events:
                if event.event_name == "PriceTick":
                    event.event_data["price"] = 0.0
"""


def test_a_test_that_changes_the_events_it_was_handed_changes_no_later_replay(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, SHARED)
    run_inprocess().assert_outcomes(passed=3)  # records in [0], replays in [1] and [2]
    run_inprocess("--record-mode=none").assert_outcomes(passed=3)


def test_a_test_that_changes_the_cassette_it_was_handed_changes_no_later_replay(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, SHARED.replace("event_cassette.events", "event_cassette.cassette.events"))
    run_inprocess().assert_outcomes(passed=3)
    run_inprocess("--record-mode=none").assert_outcomes(passed=3)


def _cassette(price: float) -> Cassette:
    return Cassette.build("c", [RecordedEvent(0.0, "PriceTick", {"price": price}, "feed")])


def test_the_same_file_is_read_once(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.json", _cassette(1.0))
    loaded = LoadedCassette()
    first = loaded.read(path)
    assert loaded.read(path) is first


def test_a_file_written_again_is_read_again(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.json", _cassette(1.0))
    loaded = LoadedCassette()
    loaded.read(path)
    write_cassette(path, _cassette(2.0))  # same size: a new file all the same
    assert loaded.read(path).events[0].event_data == {"price": 2.0}


def test_a_file_rewritten_in_place_with_its_old_time_is_read_again(tmp_path: Path) -> None:
    """What ``cp --preserve`` or ``shutil.copy2`` onto the file does: same inode, same
    size, the modification time set back; only the change time tells."""
    path = write_cassette(tmp_path / "c.json", _cassette(1.0))
    before = path.stat()
    loaded = LoadedCassette()
    loaded.read(path)
    text = write_cassette(tmp_path / "other.json", _cassette(2.0)).read_bytes()
    with path.open("r+b") as file:
        file.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert loaded.read(path).events[0].event_data == {"price": 2.0}


def test_a_released_cassette_is_read_again(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.json", _cassette(1.0))
    loaded = LoadedCassette()
    first = loaded.read(path)
    loaded.release(first)
    assert loaded.read(path) is not first


def test_only_the_cassette_kept_is_released(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.json", _cassette(1.0))
    loaded = LoadedCassette()
    first = loaded.read(path)
    loaded.release(_cassette(1.0))
    assert loaded.read(path) is first


def test_a_missing_file_fails_as_reading_it_does(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LoadedCassette().read(tmp_path / "gone.json")
