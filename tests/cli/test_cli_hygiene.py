"""The real ``eventrecorder`` in a subprocess: it never destroys a file without being asked,
turns the project's warnings into one ``note:`` line each, and writes durations, counts and
paths one way everywhere."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from cli_samples import sample_cassette

from pytest_eventrecorder import write_cassette

pytestmark = pytest.mark.skipif(
    shutil.which("eventrecorder") is None, reason="console script not installed"
)
ENV = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "EVENTRECORDER_DEBUG")}


def eventrecorder(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["eventrecorder", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=ENV,
    )


def one_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "o.json"
    write_cassette(path, sample_cassette())
    return path


# --------------------------------------------------------------------------- 12.4 no overwrite


@pytest.mark.parametrize("force", [(), ("--force",)], ids=["plain", "force"])
def test_filter_never_writes_over_its_own_input(cassette: Path, force: tuple[str, ...]) -> None:
    before = cassette.read_bytes()
    line = one_error(eventrecorder("filter", cassette, "-o", cassette, "--event", "X", *force))
    assert "is also the input" in line
    assert cassette.read_bytes() == before


def test_an_input_reached_another_way_is_still_the_input(cassette: Path, tmp_path: Path) -> None:
    before = cassette.read_bytes()
    (tmp_path / "sub").mkdir()
    other_name = tmp_path / "sub" / ".." / "o.json"
    for args in (
        ("filter", tmp_path / "o*.json", "-o", cassette, "--force"),  # a quoted glob
        ("convert", cassette, other_name, "--force"),
    ):
        assert "is also the input" in one_error(eventrecorder(*args))
    assert cassette.read_bytes() == before


@pytest.mark.parametrize("command", ["filter", "convert"])
def test_writing_over_an_existing_file_needs_force(
    cassette: Path, tmp_path: Path, command: str
) -> None:
    existing = tmp_path / "kept.json"
    existing.write_text("precious")
    filtering = command == "filter"
    extra = ("--event", "OrderPlaced") if filtering else ()
    args = ("filter", cassette, "-o", existing) if filtering else ("convert", cassette, existing)
    line = one_error(eventrecorder(*args, *extra))
    assert line == f"Error: {existing}: already exists; pass --force to replace it"
    assert existing.read_text() == "precious"
    result = eventrecorder(*args, *extra, "--force")
    assert result.returncode == 0, result.stderr
    assert json.loads(existing.read_text())["session_name"] == "demo"


def test_record_over_an_existing_cassette_needs_force(cassette: Path) -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("Redis is not reachable on 127.0.0.1:6379; CI=true requires it")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    before = cassette.read_bytes()
    channel = f"hygiene-{uuid.uuid4().hex}"
    url = "redis://127.0.0.1:6379/0"
    args = ("record", "--from", url, "--channel", channel, "-o", cassette, "--duration", "0.3")
    line = one_error(eventrecorder(*args))
    assert line == f"Error: {cassette}: already exists; pass --force to replace it"
    assert cassette.read_bytes() == before
    result = eventrecorder(*args, "--force")
    assert result.returncode == 0, result.stderr
    assert json.loads(cassette.read_text())["events"] == []
# --------------------------------------------------------------------------- 12.5 notes


@pytest.fixture
def odd(tmp_path: Path) -> Path:
    """A cassette with a header field and an event field the format does not define."""
    path = tmp_path / "odd.json"
    events = [
        {"timestamp_offset_ms": 0, "event_name": "A", "event_data": {}, "weird": 1},
        {"timestamp_offset_ms": 0.869539, "event_name": "B", "event_data": {}, "weird": 2},
    ]
    raw = {"session_name": "s", "start_time": "2025-01-02T03:04:05Z", "extra": 1, "events": events}
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("info", "{odd}"),
        ("info", "{odd}", "{odd}"),
        ("timeline", "{odd}"),
        ("convert", "{odd}", "{tmp}/out.yaml"),
        ("diff", "{odd}", "{odd}"),
        ("filter", "{odd}", "-o", "{tmp}/f.jsonl"),
    ],
    ids=["info", "info-twice", "timeline", "convert", "diff", "filter"],
)
def test_unknown_fields_are_one_note_line_per_kind(
    odd: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = eventrecorder(*(a.format(odd=odd, tmp=tmp_path) for a in args))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert ".py:" not in result.stderr
    notes = [line for line in result.stderr.splitlines() if "note:" in line]
    assert len(notes) == 2, result.stderr  # one for the header field, one for the event field
    assert all(line.startswith("note: ") and str(odd) in line for line in notes)
    assert any("header field(s) 'extra'" in line for line in notes)
    assert any("event field(s) 'weird'" in line for line in notes)
    assert "note" not in result.stdout
# --------------------------------------------------------------------------- 12.6 one format


def test_info_writes_every_duration_the_same_way(odd: Path, tmp_path: Path) -> None:
    short = tmp_path / "short.json"
    write_cassette(short, sample_cassette(1))
    longer = tmp_path / "longer.json"
    raw = json.loads(odd.read_text())
    raw["events"][1]["timestamp_offset_ms"] = 1.9
    longer.write_text(json.dumps(raw))
    result = eventrecorder("info", odd, longer, short)
    durations = re.findall(r"duration\s+(.*)", result.stdout)
    assert durations == ["0.870 ms", "1.900 ms", "0.000 ms"]


def test_counts_use_the_singular_for_one(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    write_cassette(one, sample_cassette(1))
    outputs = [
        eventrecorder("validate", one).stdout,
        eventrecorder("convert", one, tmp_path / "one.yaml").stderr,
        eventrecorder("filter", one, "-o", tmp_path / "f.json").stderr,
        eventrecorder("diff", one, tmp_path / "one.yaml").stdout,
    ]
    text = "\n".join(outputs)
    assert " 1 events" not in text, text
    assert "(1 event)" in outputs[0]
    assert "wrote 1 event to" in outputs[1]
    assert "wrote 1 of 1 event to" in outputs[2]
    assert "hold the same 1 event" in outputs[3]


def test_paths_in_errors_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    line = one_error(eventrecorder("info", "sub/../nope.json", cwd=tmp_path))
    assert line == "Error: nope.json: no such file"
    line = one_error(eventrecorder("timeline", "./sub//../sub/gone.jsonl", cwd=tmp_path))
    assert line == f"Error: {Path('sub/gone.jsonl')}: no such file"


def test_replay_names_the_file_it_read_in_errors_and_notes(odd: Path, tmp_path: Path) -> None:
    to = ("--to", "redis://127.0.0.1:6379/15", "--speed", "max")
    line = one_error(eventrecorder("replay", "sub/../nope.json", *to, cwd=tmp_path))
    assert line == "Error: nope.json: no such file"
    (tmp_path / "sub").mkdir()
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    result = eventrecorder("replay", "sub/../odd*.json", *to, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 2, result.stderr
    assert all(line.startswith("note: odd.json: ") for line in notes)
