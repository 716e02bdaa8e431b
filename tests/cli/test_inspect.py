"""``info`` and ``timeline``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_samples import START, Invoke, one_error_line, sample_cassette

from pytest_eventrecorder import Cassette, RecordedEvent

FORMATS = ["s.json", "s.jsonl", "s.yaml", "s.yml.gz", "s.jsonl.gz", "s.json.gz"]


@pytest.mark.parametrize("name", FORMATS)
def test_info_summarizes_every_format(
    cli: Invoke, make_cassette: Callable[..., Path], name: str
) -> None:
    path = make_cassette(name)
    result = cli("info", path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert str(path) in out
    for expected in (
        "session      demo",
        f"started      {START}",
        "duration     800.000 ms",
        "events       9",
        "event names  3",
        "sources      3",
    ):
        assert expected in out
    assert "        3  MarketDataReceived" in out
    assert "        3  (none)" in out


def test_quoted_glob_patterns_are_expanded(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    """A pattern the shell did not expand (quoted, or on Windows) works as it would have."""
    make_cassette("run_1.json")
    make_cassette("run_2.jsonl")
    pattern = str(tmp_path / "run_*")
    listed = cli("info", "--json", pattern)
    assert listed.exit_code == 0, listed.output
    assert [Path(s["file"]).name for s in json.loads(listed.stdout)] == [
        "run_1.json",
        "run_2.jsonl",
    ]
    assert cli("validate", pattern).stdout.count(": ok") == 2
    assert cli("timeline", pattern).exit_code == 0  # one file: the newest match
    nothing = cli("info", str(tmp_path / "none_*.json"))
    assert nothing.exit_code == 2
    assert "none_*.json: no file matches" in nothing.stderr


def test_info_json_for_scripts(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    a, b = make_cassette("a.jsonl.gz"), make_cassette("b.yaml", sample_cassette(4, "other"))
    result = cli("info", "--json", a, b)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [d["file"] for d in data] == [str(a), str(b)]
    first = data[0]
    assert first["format"] == "jsonl.gz"
    assert first["session_name"] == "demo"
    assert first["start_time"] == START
    assert first["total_events"] == 9
    assert first["duration_ms"] == 800.0
    assert first["metadata"] == {"k": "v"}
    assert first["event_names"] == {"MarketDataReceived": 3, "OrderPlaced": 3, "OrderFilled": 3}
    assert first["sources"] == {"MarketDataAgent": 3, "TradingBot": 3, "(none)": 3}
    assert first["size_bytes"] == a.stat().st_size
    assert data[1]["total_events"] == 4


def test_info_long_durations_and_sizes_read_well(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    events = [RecordedEvent(0, "A", {}), RecordedEvent(3_723_500.0, "B", {})]
    path = make_cassette("long.json", Cassette.build("long", events, start_time=START))
    out = cli("info", path).stdout
    assert "duration     1:02:03.500 (3,723,500.000 ms)" in out
    assert "bytes" in out


def test_info_counts_events_even_when_the_jsonl_header_is_stale(
    cli: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "live.jsonl"
    header = {"session_name": "live", "start_time": START, "total_events": 0, "duration_ms": 0}
    lines = [header] + [RecordedEvent(i * 10.0, "E", {"i": i}).to_dict() for i in range(3)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    data = json.loads(cli("info", "--json", path).stdout)[0]
    assert (data["total_events"], data["duration_ms"]) == (3, 20.0)


def test_info_reports_each_bad_file_and_still_summarizes_the_good_ones(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    good = make_cassette("good.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"session_name": "x",')
    result = cli("info", tmp_path / "missing.json", good, broken)
    assert result.exit_code == 2
    assert "session      demo" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors[0] == f"Error: {tmp_path / 'missing.json'}: no such file"
    assert errors[1].startswith(f"Error: {broken}")
    assert "not valid JSON" in errors[1]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (b"hello", "notes.txt", "unknown cassette format"),
        (b"", "empty.jsonl", "empty"),
        (b"[1, 2]", "list.json", "must be an object"),
        (b"\x1f\x8b garbage", "bad.json.gz", "gzip"),
        (b"events: [\n", "bad.yaml", "not valid YAML"),
    ],
)
def test_info_bad_input_is_one_clear_line(
    cli: Invoke, tmp_path: Path, content: bytes, name: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = cli("info", path)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert str(path) in line
    assert fragment in line


def test_info_on_a_folder(cli: Invoke, tmp_path: Path) -> None:
    result = cli("info", tmp_path)
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {tmp_path}: is a folder, not a cassette file"


def test_info_needs_a_file(cli: Invoke) -> None:
    result = cli("info")
    assert result.exit_code == 2
    assert "Missing argument 'FILE...'" in result.stderr


# --------------------------------------------------------------------------- timeline


def test_timeline_lists_index_offset_name_source(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    result = cli("timeline", make_cassette("s.jsonl"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 9
    assert lines[0].split() == ["0", "0.000", "ms", "MarketDataReceived", "MarketDataAgent"]
    assert lines[2].split() == ["2", "200.000", "ms", "OrderFilled", "-"]
    assert "\x1b[" not in result.stdout  # not a terminal: plain text


def test_timeline_colour_can_be_forced_and_refused(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    path = make_cassette("s.json")
    assert "\x1b[" in cli("--color", "timeline", path).stdout
    assert "\x1b[" not in cli("--no-color", "timeline", path).stdout
    assert "\x1b[" not in cli("timeline", path, env={"NO_COLOR": "1"}).stdout


def test_timeline_stops_at_max_events_and_says_so(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    path = make_cassette("s.jsonl")
    result = cli("timeline", path, "--max-events", "3")
    assert len(result.stdout.splitlines()) == 3
    assert "showing the first 3 (--max-events 0 shows all)" in result.stderr
    exact = cli("timeline", path, "-n", "9")
    assert len(exact.stdout.splitlines()) == 9
    assert "more events" not in exact.stderr
    assert len(cli("timeline", path, "-n", "0").stdout.splitlines()) == 9


def test_timeline_filters(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    path = make_cassette("s.json")

    def names(*args: str) -> list[str]:
        return [line.split()[3] for line in cli("timeline", path, *args).stdout.splitlines()]

    assert names("--event", "OrderPlaced") == ["OrderPlaced"] * 3
    assert set(names("--event", "Order*")) == {"OrderPlaced", "OrderFilled"}
    assert names("--source", "Trading*", "--source", "Nope") == ["OrderPlaced"] * 3
    assert len(names("--where", "event_data.price >= 106")) == 3
    filled = cli("timeline", path, "--event", "OrderFilled").stdout
    indexes = [line.split()[0] for line in filled.splitlines()]
    assert indexes == ["2", "5", "8"]  # positions in the file, as the dashboard's API uses


def test_timeline_with_nothing_to_show(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    result = cli("timeline", make_cassette("s.json"), "--event", "Nope")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "(no matching events)" in result.stderr
    empty = make_cassette("e.json", Cassette.build("e", [], start_time=START))
    assert "(no events)" in cli("timeline", empty).stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-n", "-1"], "-1 is not in the range x>=0"),
        (["-n", "many"], "'many' is not a valid integer"),
        (["--where", "event_data.price >"], "Invalid value for '--where': expected a value"),
        (["--where", "price > 1"], "did you mean 'event_data.price'?"),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_timeline_bad_options(
    cli: Invoke, make_cassette: Callable[..., Path], args: list[str], fragment: str
) -> None:
    result = cli("timeline", make_cassette("s.json"), *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_timeline_missing_file(cli: Invoke, tmp_path: Path) -> None:
    result = cli("timeline", tmp_path / "nope.jsonl")
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {tmp_path / 'nope.jsonl'}: no such file"


def test_control_characters_in_recorded_names_are_escaped(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    hostile = [RecordedEvent(0, "Evil\x1b[2J\nName", {}, "src\rX")]
    path = make_cassette("evil.json", Cassette.build("sess\x07", hostile, start_time=START))
    for args in (["timeline", path], ["--color", "timeline", path], ["info", path]):
        out = cli(*args).stdout
        assert "\x1b[2J" not in out
        assert "\\x1b[2J\\nName" in out
        assert "\r" not in out
    assert "sess\\x07" in cli("info", path).stdout
