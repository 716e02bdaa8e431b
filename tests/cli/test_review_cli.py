"""``eventrecorder review``: walk the pending cassettes, accept / reject / skip each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cli_samples import sample_cassette
from click.testing import CliRunner, Result

from pytest_eventrecorder import read_cassette, write_cassette
from pytest_eventrecorder.cli import main
from pytest_eventrecorder.pending import pending_path


def cli(*args: str | Path, input: str | None = None) -> Result:
    """``eventrecorder ARGS`` in-process, ``input`` typed as keys."""
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


@pytest.fixture
def pending_pair(tmp_path: Path) -> Callable[[str], Path]:
    """A recorded cassette and a pending one whose event #1 has price 999."""

    def make(name: str) -> Path:
        recorded = write_cassette(tmp_path / name, sample_cassette())
        events = list(sample_cassette().events)
        events[1] = replace(events[1], event_data={**events[1].event_data, "price": 999})
        return write_cassette(pending_path(recorded), sample_cassette().with_events(events))

    return make


def price(path: Path) -> object:
    return read_cassette(path).events[1].event_data["price"]


def test_keys_accept_reject_skip_and_quit(
    tmp_path: Path, pending_pair: Callable[[str], Path]
) -> None:
    a, b, c, d = (pending_pair(f"{x}.json") for x in "abcd")
    result = cli("review", tmp_path, input="arsq")
    assert result.exit_code == 0, result.output
    assert "event_data.price: 101 != 999" in result.output
    assert "[a]ccept [r]eject [s]kip [A]ccept the rest [q]uit" in result.output
    assert [price(tmp_path / "a.json"), a.exists()] == [999, False]
    assert [price(tmp_path / "b.json"), b.exists()] == [101, False]
    assert [c.exists(), d.exists()] == [True, True]  # skipped, then quit before it
    assert "1 accepted, 1 rejected, 2 left pending" in result.output

    rest = cli("review", tmp_path, input="A")
    assert rest.exit_code == 0
    assert [price(tmp_path / "c.json"), price(tmp_path / "d.json")] == [999, 999]
    assert [c.exists(), d.exists()] == [False, False]


def test_an_unknown_key_asks_again(pending_pair: Callable[[str], Path]) -> None:
    pending = pending_pair("a.yaml")
    result = cli("review", pending, input="xr")
    assert "press a, r, s, A or q" in result.output
    assert not pending.exists()


def test_all_at_once_and_list(tmp_path: Path, pending_pair: Callable[[str], Path]) -> None:
    for name in ("a.json", "b.jsonl.gz"):
        pending_pair(name)
    listed = cli("review", "--list", tmp_path)
    assert listed.exit_code == 1
    assert listed.output.splitlines() == [
        str(tmp_path / "a.pending.json"),
        str(tmp_path / "b.pending.jsonl.gz"),
    ]
    rejected = cli("review", "--reject-all", tmp_path)
    assert rejected.exit_code == 0
    assert price(tmp_path / "a.json") == 101
    assert cli("review", "--list", tmp_path).exit_code == 0
    assert "nothing pending" in cli("review", tmp_path).output


def test_accept_all_and_conflicting_flags(
    tmp_path: Path, pending_pair: Callable[[str], Path]
) -> None:
    pending_pair("a.json")
    both = cli("review", "--accept-all", "--reject-all", tmp_path)
    assert both.exit_code == 2
    assert "only one of --accept-all, --reject-all and --list" in both.output
    assert cli("review", "--accept-all", tmp_path).exit_code == 0
    assert price(tmp_path / "a.json") == 999


def test_a_pending_cassette_without_its_recording_is_shown_whole(tmp_path: Path) -> None:
    write_cassette(tmp_path / "new.pending.json", sample_cassette(2))
    result = cli("review", tmp_path, input="a")
    assert "no recorded cassette" in result.output
    assert (tmp_path / "new.json").is_file()


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    result = cli("review", tmp_path / "nope")
    assert result.exit_code == 2


def test_validate_marks_pending_cassettes(
    tmp_path: Path, pending_pair: Callable[[str], Path]
) -> None:
    pending = pending_pair("a.json")
    result = cli("validate", tmp_path)
    assert result.exit_code == 0
    assert f"{tmp_path / 'a.json'}: ok (9 events)" in result.output
    assert f"{pending}: ok (9 events; pending, see eventrecorder review)" in result.output


def test_a_pending_cassette_that_cannot_be_read_is_shown_and_can_be_rejected(
    tmp_path: Path, pending_pair: Callable[[str], Path]
) -> None:
    pending = pending_pair("a.json")
    pending.write_text("{not json")
    result = cli("review", tmp_path, input="r")
    assert result.exit_code == 0, result.output
    assert "cannot be read:" in result.output
    assert not pending.exists()


def test_accept_all_never_replaces_a_cassette_with_an_unreadable_one(tmp_path: Path) -> None:
    good = tmp_path / "test_x.json"
    good.write_text('{"session_name": "s", "start_time": "2026-01-01T00:00:00", "events": []}')
    before = good.read_bytes()
    (tmp_path / "test_x.pending.json").write_text('{"version": 1, "sess')
    result = CliRunner().invoke(main, ["review", "--accept-all", str(tmp_path)])
    assert result.exit_code == 2
    assert "not accepted" in result.stderr
    assert good.read_bytes() == before
    assert (tmp_path / "test_x.pending.json").exists()
