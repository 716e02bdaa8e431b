"""``diff`` (exit 0 equal / 1 different) and ``validate`` (exit 0 valid / 1 problems)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_samples import START, Invoke, one_error_line, sample_cassette

from pytest_eventrecorder import Cassette, RecordedEvent

EXPECTED = [
    RecordedEvent(0, "Quote", {"price": 100, "ts": 1}, "Feed"),
    RecordedEvent(10, "Order", {"id": 1, "meta": {"at": 5}}, "Bot"),
    RecordedEvent(20, "Gone", {}, "Bot"),
]
ACTUAL = [
    RecordedEvent(0, "Quote", {"price": 101, "ts": 2}, "Feed"),
    RecordedEvent(12, "Order", {"id": 1, "meta": {"at": 6}}, "Bot"),
    RecordedEvent(30, "New", {}, "Bot"),
]


@pytest.fixture
def pair(make_cassette: Callable[..., Path]) -> tuple[Path, Path]:
    a = make_cassette("a.json", Cassette.build("a", EXPECTED, start_time=START))
    b = make_cassette("b.jsonl.gz", Cassette.build("b", ACTUAL, start_time=START))
    return a, b


def test_diff_equal_cassettes_exit_0(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    a, b = make_cassette("a.json"), make_cassette("b.yaml")
    result = cli("diff", a, b)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{a} and {b} hold the same 9 events"


def test_diff_reports_every_difference_per_event_and_field(
    cli: Invoke, pair: tuple[Path, Path]
) -> None:
    a, b = pair
    result = cli("diff", a, b)
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith(f"--- {a} (recorded)\n+++ {b} (new)\n")
    assert "4 event differences (2 changed, 1 missing, 1 unexpected)" in out
    assert "changed 'Quote' from source 'Feed'" in out
    assert "event_data.price: 100 != 101" in out
    assert "event_data.ts: 1 != 2" in out
    assert "missing 'Gone'" in out
    assert "unexpected 'New'" in out
    assert "event_data.meta.at: 5 != 6" in out
    assert "\x1b[" not in out  # piped: no colour codes


def test_diff_colour_on_request(cli: Invoke, pair: tuple[Path, Path]) -> None:
    assert "\x1b[" in cli("--color", "diff", *pair).stdout


def test_diff_ignore_fields(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    a = make_cassette("a.json", Cassette.build("a", EXPECTED[:2], start_time=START))
    b = make_cassette("b.json", Cassette.build("b", ACTUAL[:2], start_time=START))
    assert cli("diff", a, b, "--ignore-field", "ts").exit_code == 1
    result = cli(
        "diff", a, b, "--ignore-field", "ts", "--ignore-field", "price", "--ignore-field", "meta.*"
    )
    assert result.exit_code == 0, result.stdout
    as_reported = ["--ignore-field", "event_data.ts", "--ignore-field", "event_data.price"]
    result = cli("diff", a, b, *as_reported, "--ignore-field", "meta.*")
    assert result.exit_code == 0, result.stdout  # the report's own field names work too


def test_diff_json_for_scripts(cli: Invoke, pair: tuple[Path, Path]) -> None:
    a, b = pair
    result = cli("diff", "--json", a, b)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["equal"] is False
    assert [d["kind"] for d in data["differences"]] == [
        "changed",
        "changed",
        "missing",
        "unexpected",
    ]
    changed = data["differences"][0]
    assert changed["field_diffs"] == ["event_data.price: 100 != 101", "event_data.ts: 1 != 2"]
    assert changed["expected"]["event_data"] == {"price": 100, "ts": 1}
    assert data["a"] == {
        "file": str(a),
        "session_name": "a",
        "total_events": 3,
        "duration_ms": 20.0,
    }
    assert data["b"]["total_events"] == 3
    equal = json.loads(cli("diff", "--json", a, a).stdout)
    assert equal["equal"] is True
    assert equal["differences"] == []


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("a..b", "'a..b' has an empty segment"), ("", "every entry must be a non-empty string")],
)
def test_diff_bad_ignore_field(
    cli: Invoke, pair: tuple[Path, Path], path: str, fragment: str
) -> None:
    result = cli("diff", *pair, "--ignore-field", path)
    assert result.exit_code == 2
    assert f"Invalid value for '--ignore-field': {fragment}" in result.stderr


def test_diff_bad_inputs(cli: Invoke, pair: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = pair
    missing = cli("diff", a, tmp_path / "nope.json")
    assert missing.exit_code == 2
    assert one_error_line(missing) == f"Error: {tmp_path / 'nope.json'}: no such file"
    broken = tmp_path / "broken.yaml"
    broken.write_text("session_name: [\n")
    result = cli("diff", broken, a)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: {broken}")
    assert cli("diff", a).exit_code == 2


# --------------------------------------------------------------------------- validate


def write_lines(path: Path, *lines: object, raw_tail: bytes = b"") -> Path:
    body = "".join(json.dumps(line) + "\n" for line in lines).encode() + raw_tail
    path.write_bytes(gzip.compress(body) if path.suffix == ".gz" else body)
    return path


HEADER = {"session_name": "s", "start_time": START}


def event(offset: float, name: str = "E") -> dict[str, object]:
    return RecordedEvent(offset, name, {}).to_dict()


def test_validate_good_files(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    paths = [make_cassette(n) for n in ("a.json", "b.jsonl.gz", "c.yaml")]
    result = cli("validate", *paths)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{p}: ok (9 events)" for p in paths]
    quiet = cli("validate", "-q", *paths)
    assert quiet.exit_code == 0
    assert quiet.stdout == ""


def test_validate_one_line_per_problem(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    good = make_cassette("good.json")
    unordered = write_lines(
        tmp_path / "unordered.jsonl", HEADER, event(5), event(1), event(3), event(9)
    )
    truncated = write_lines(tmp_path / "cut.jsonl", HEADER, event(1), raw_tail=b'{"timestamp_')
    wrong = write_lines(tmp_path / "wrong.jsonl", HEADER, event(1), {"event_name": "E"})
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    result = cli("validate", good, unordered, truncated, wrong, notes)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{good}: ok (9 events)",
        f"{unordered}: event 1: timestamp_offset_ms 1 is earlier than the event before it (5)",
        f"{unordered}: event 2: timestamp_offset_ms 3 is earlier than the event before it (5)",
        f"{truncated}: line 3 is incomplete (the writer stopped mid-event); it was skipped",
        f"{wrong}, line 3, event 1, field 'timestamp_offset_ms': required field is missing",
        f"{notes}: unknown cassette format; the name must end in one of "
        ".json, .jsonl, .yaml, .yml (+ .gz)",
    ]
    assert "warning" not in result.stderr  # reported once, as a problem line


def test_validate_a_cut_off_gzip_stream(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    whole = make_cassette("whole.jsonl.gz").read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) - 30])
    result = cli("validate", cut)
    assert result.exit_code == 1
    assert f"{cut}: the gzip stream ends early" in result.stdout


def test_validate_reports_a_total_that_contradicts_the_events(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    """In a .jsonl the header is written apart from the events (a .json is recounted)."""
    path = make_cassette("counted.jsonl")
    header, *events = path.read_text().splitlines(keepends=True)
    path.write_text(json.dumps({**json.loads(header), "total_events": 12}) + "\n" + "".join(events))
    result = cli("validate", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}: total_events says 12, but the file holds 9 events"
    ]


def test_validate_names_fields_a_convert_would_not_keep(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "extra.json"
    events = [
        {"timestamp_offset_ms": i, "event_name": "A", "event_data": i, "custom": 1}
        for i in range(3)
    ]
    document = {"session_name": "s", "start_time": START, "notes": "x", "events": events}
    path.write_text(json.dumps(document))
    result = cli("validate", path)
    assert result.exit_code == 0  # readable as the format says: noted, not a problem
    assert result.stdout.splitlines() == [
        f"{path}: note: header field(s) 'notes' are not part of the cassette format: they are "
        "read past, and converting or saving does not keep them",
        f"{path}: note: event field(s) 'custom' are not part of the cassette format: they are "
        "read past, and converting or saving does not keep them",
        f"{path}: ok (3 events)",
    ]


def test_validate_caps_the_problems_per_file(cli: Invoke, tmp_path: Path) -> None:
    offsets = [100.0] + [1.0] * 30
    path = write_lines(tmp_path / "many.jsonl", HEADER, *(event(o) for o in offsets))
    lines = cli("validate", path).stdout.splitlines()
    assert len(lines) == 21
    assert lines[-1] == f"{path}: ... and 10 more problems"


def test_validate_a_folder(cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path) -> None:
    make_cassette("a.json")
    (tmp_path / "sub").mkdir()
    make_cassette("sub/b.jsonl")
    (tmp_path / "README.md").write_text("not a cassette")
    result = cli("validate", tmp_path)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'a.json'}: ok (9 events)",
        f"{tmp_path / 'sub' / 'b.jsonl'}: ok (9 events)",
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("validate", empty)
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {empty}: no cassette files in this folder"


def test_validate_missing_file_is_exit_2_but_checks_the_rest(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    good = make_cassette("good.json")
    result = cli("validate", tmp_path / "nope.json", good)
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {tmp_path / 'nope.json'}: no such file"
    assert result.stdout == f"{good}: ok (9 events)\n"


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("a.json", b"{", "not valid JSON"),
        ("a.json", b'{"session_name": "s", "start_time": "' + START.encode() + b'"}', "events"),
        ("a.yaml", b"- 1\n", "must be an object"),
        ("a.json.gz", b"plain text", "gzip"),
        ("a.jsonl", b"", "starts with a header line"),
        ("a.json", b"\xff\xfe", "UTF-8"),
        ("a.json", json.dumps({**HEADER, "version": 99, "events": []}).encode(), "newer"),
    ],
)
def test_validate_corrupted_files(
    cli: Invoke, tmp_path: Path, name: str, content: bytes, fragment: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("validate", path)
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith(str(path))
    assert fragment in line
    assert "Traceback" not in result.output


def test_validate_counts_a_sample(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    path = make_cassette("big.jsonl", sample_cassette(500))
    assert cli("validate", path).stdout == f"{path}: ok (500 events)\n"
