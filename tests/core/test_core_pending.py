"""Pending cassettes: naming, finding, accepting and rejecting (pytest_eventrecorder.pending)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_eventrecorder import CassetteError
from pytest_eventrecorder.pending import (
    accept,
    find_pending,
    is_pending,
    pending_path,
    recorded_path,
    reject,
)


@pytest.mark.parametrize(
    ("recorded", "pending"),
    [
        ("t/test_buy.json", "t/test_buy.pending.json"),
        ("t/test_buy.jsonl.gz", "t/test_buy.pending.jsonl.gz"),
        ("t/test_x[a.b].yaml", "t/test_x[a.b].pending.yaml"),
        ("t/Test.test_y.yml.gz", "t/Test.test_y.pending.yml.gz"),
    ],
)
def test_names_round_trip(recorded: str, pending: str) -> None:
    assert pending_path(recorded) == Path(pending)
    assert recorded_path(pending) == Path(recorded)
    assert is_pending(pending)
    assert not is_pending(recorded)


def test_names_refuse_the_wrong_kind_of_file() -> None:
    with pytest.raises(ValueError, match="is itself a pending cassette"):
        pending_path("x.pending.json")
    with pytest.raises(ValueError, match="is not a pending cassette"):
        recorded_path("x.json")
    assert not is_pending("notes.pending.txt")


OLD = '{"session_name": "old", "start_time": "2026-01-01T00:00:00", "events": []}'
NEW = OLD.replace("old", "new")


def test_accept_replaces_atomically_and_reject_removes(tmp_path: Path) -> None:
    recorded = tmp_path / "a" / "test_x.json"
    recorded.parent.mkdir()
    recorded.write_text(OLD)
    pending = pending_path(recorded)
    pending.write_text(NEW)
    (tmp_path / "a" / "other.json").write_text("{}")
    assert list(find_pending(tmp_path)) == [pending]
    assert accept(pending) == recorded
    assert recorded.read_text() == NEW
    assert not pending.exists()

    pending.write_text("newer")
    reject(pending)
    assert not pending.exists()
    assert recorded.read_text() == NEW
    with pytest.raises(ValueError):
        reject(recorded)
    assert recorded.exists()


def test_an_unreadable_pending_cassette_is_never_accepted(tmp_path: Path) -> None:
    recorded = tmp_path / "test_x.json"
    recorded.write_text(OLD)
    pending = pending_path(recorded)
    pending.write_text('{"version": 1, "sess')
    with pytest.raises(CassetteError):
        accept(pending)
    assert recorded.read_text() == OLD
    assert pending.exists()
