"""``filter`` and ``convert``: new cassettes from old ones, streamed for .jsonl."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_samples import START, Invoke, one_error_line, sample_cassette
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import (
    Cassette,
    CassetteHeader,
    RecordedEvent,
    read_cassette,
    read_header,
)
from pytest_eventrecorder import formats as formats_module
from pytest_eventrecorder.cli import editing, inputs

FORMATS = ["json", "jsonl", "yaml", "yml", "json.gz", "jsonl.gz", "yaml.gz"]


def names_in(path: Path) -> list[str]:
    return [e.event_name for e in read_cassette(path).events]


# --------------------------------------------------------------------------- filter


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--event", "OrderPlaced"], ["OrderPlaced"] * 3),
        (["--event", "Order*"], ["OrderPlaced", "OrderFilled"] * 3),
        (["--event", "OrderPlaced", "--event", "OrderFilled"], ["OrderPlaced", "OrderFilled"] * 3),
        (["--exclude-event", "Market*", "--exclude-event", "OrderFilled"], ["OrderPlaced"] * 3),
        (["--source", "MarketDataAgent"], ["MarketDataReceived"] * 3),
        (["--where", "event_data.price > 106"], ["OrderPlaced", "OrderFilled"]),
        (["--event", "Order*", "--where", "source == null"], ["OrderFilled"] * 3),
        (
            ["--where", "event_data.tags contains 't1' and not event_name == 'OrderPlaced'"],
            ["MarketDataReceived", "OrderFilled"],
        ),
    ],
)
def test_filter_keeps_what_passes_every_filter(
    cli: Invoke,
    make_cassette: Callable[..., Path],
    tmp_path: Path,
    args: list[str],
    expected: list[str],
) -> None:
    out = tmp_path / "out.json"
    result = cli("filter", make_cassette("in.jsonl"), "-o", out, *args)
    assert result.exit_code == 0, result.output
    assert names_in(out) == expected
    assert f"wrote {len(expected)} of 9 events to {out}" in result.stderr


@pytest.mark.parametrize("suffix", FORMATS)
def test_filter_slice_rebases_offsets_and_start_time(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"slice.{suffix}"
    src = make_cassette("in.jsonl")
    result = cli("filter", src, "-o", out, "--from-ms", "250", "--to-ms", "600")
    assert result.exit_code == 0, result.output
    cassette = read_cassette(out)
    assert [e.timestamp_offset_ms for e in cassette.events] == [50.0, 150.0, 250.0]
    assert [e.event_data["price"] for e in cassette.events] == [103, 104, 105]
    header = read_header(out)  # the header itself is exact, even for .jsonl written first
    assert header.start_time == "2025-10-17T10:00:00.250Z"
    assert (header.total_events, header.duration_ms) == (3, 250.0)
    assert header.session_name == "demo"
    assert dict(header.metadata) == {"k": "v"}


@pytest.mark.parametrize("suffix", ["json", "jsonl", "yaml"])
def test_filtering_events_out_keeps_the_sessions_duration(
    cli: Invoke, tmp_path: Path, suffix: str
) -> None:
    events = [RecordedEvent(float(i), "Tick", {"n": i}) for i in range(3)]
    src = tmp_path / "long.json"
    formats_module.write_events(src, CassetteHeader("s", START, 45_000.0, 3), events)
    out = tmp_path / f"out.{suffix}"
    assert cli("filter", src, "-o", out, "--event", "Tick").exit_code == 0
    assert read_header(out).duration_ms == 45_000.0


def test_filter_no_rebase_keeps_offsets(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "slice.jsonl"
    cli("filter", make_cassette("in.json"), "-o", out, "--from-ms", "700", "--no-rebase")
    header = read_header(out)
    assert [e.timestamp_offset_ms for e in read_cassette(out).events] == [700.0, 800.0]
    assert (header.start_time, header.total_events, header.duration_ms) == (START, 2, 800.0)


def test_filter_to_ms_alone_and_session_name(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "head.yaml"
    cli("filter", make_cassette("in.json"), "-o", out, "--to-ms", "200", "--session-name", "head")
    cassette = read_cassette(out)
    assert [e.timestamp_offset_ms for e in cassette.events] == [0.0, 100.0]
    assert (cassette.header.session_name, cassette.header.start_time) == ("head", START)


def test_filter_with_no_match_writes_an_empty_cassette(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    out = tmp_path / "none.jsonl"
    result = cli("filter", make_cassette("in.jsonl"), "-o", out, "--event", "Nope")
    assert result.exit_code == 0
    assert read_cassette(out).events == ()
    assert read_header(out).total_events == 0
    assert "wrote 0 of 9 events" in result.stderr


def test_filter_never_writes_over_its_input(
    cli: Invoke, make_cassette: Callable[..., Path]
) -> None:
    path = make_cassette("in.jsonl")
    result = cli("filter", path, "-o", path, "--event", "OrderFilled", "--force")
    assert result.exit_code == 2
    assert "is also the input" in one_error_line(result)
    assert len(names_in(path)) == 9


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["--from-ms", "500", "--to-ms", "500"],
            "Invalid value for --to-ms: must be greater than --from-ms (500)",
        ),
        (["--from-ms", "-5"], "-5.0 must be a finite number >= 0"),
        (["--from-ms", "nan"], "nan must be a finite number >= 0"),
        (["--to-ms", "inf"], "inf must be a finite number >= 0"),
        (["--from-ms", "soon"], "'soon' is not a valid float"),
        (["--where", "event_data.price >> 1"], "Invalid value for '--where'"),
        (["--where", "event_data.price = 1"], "write '=='"),
    ],
)
def test_filter_bad_options(
    cli: Invoke,
    make_cassette: Callable[..., Path],
    tmp_path: Path,
    args: list[str],
    fragment: str,
) -> None:
    out = tmp_path / "out.json"
    result = cli("filter", make_cassette("in.json"), "-o", out, *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_filter_needs_an_output(cli: Invoke, make_cassette: Callable[..., Path]) -> None:
    result = cli("filter", make_cassette("in.json"))
    assert result.exit_code == 2
    assert "Missing option '-o' / '--output'" in result.stderr


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        ("out.txt", "unknown cassette format"),
        ("folder.json", "is a folder; name the cassette file"),
    ],
)
def test_filter_bad_output_fails_before_reading(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, fragment: str
) -> None:
    (tmp_path / "folder.json").mkdir()
    monkeypatch.setattr(editing, "open_input", _must_not_be_called)
    result = cli("filter", tmp_path / "in.jsonl", "-o", tmp_path / output)
    assert result.exit_code == 2
    assert fragment in one_error_line(result)


def _must_not_be_called(*_args: object) -> None:
    raise AssertionError("the input was opened before the output was checked")


def test_filter_corrupt_input_leaves_no_output(cli: Invoke, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"session_name": "s", "start_time": START})]
    lines += [json.dumps(RecordedEvent(i, "E", {}).to_dict()) for i in range(3)]
    lines.insert(3, "{not json")
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = cli("filter", src, "-o", out)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"Error: {src}, line 4")
    assert "not valid JSON" in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind


def test_filter_missing_input(cli: Invoke, tmp_path: Path) -> None:
    result = cli("filter", tmp_path / "nope.json", "-o", tmp_path / "out.json")
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {tmp_path / 'nope.json'}: no such file"


# --------------------------------------------------------------------------- streaming


@pytest.fixture
def no_whole_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading a whole cassette fails: .jsonl work must be streamed."""

    def refuse(path: object) -> Cassette:
        raise AssertionError(f"{path} was loaded whole")

    monkeypatch.setattr(inputs, "read_cassette", refuse)
    monkeypatch.setattr(formats_module, "read_cassette", refuse)


@pytest.mark.usefixtures("no_whole_reads")
@pytest.mark.parametrize(
    "args",
    [
        ["info", "{src}"],
        ["info", "--json", "{src}"],
        ["timeline", "{src}", "-n", "0"],
        ["validate", "{src}"],
        ["filter", "{src}", "-o", "{out}", "--where", "event_data.price > 103", "--from-ms", "1"],
        ["convert", "{src}", "{out}"],
    ],
)
def test_jsonl_work_is_streamed(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path, args: list[str]
) -> None:
    src = make_cassette("big.jsonl.gz")
    out = tmp_path / "out.jsonl"
    result = cli(*(a.format(src=src, out=out) for a in args))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["info", "filter", "convert", "validate"])
def test_help_says_jsonl_is_streamed(cli: Invoke, command: str) -> None:
    text = " ".join(cli(command, "--help").stdout.split())
    assert ".jsonl" in text
    assert "stream" in text


def test_progress_bar_only_for_big_files_on_a_terminal(
    cli: Invoke,
    make_cassette: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = make_cassette("in.jsonl")
    out = tmp_path / "out.jsonl"
    assert "converting" not in cli("convert", src, out).stderr  # piped: quiet
    monkeypatch.setattr(inputs, "progress_wanted", lambda size: True)
    result = cli("convert", src, out, "--force")
    assert f"converting {src.name}" in result.stderr
    assert read_cassette(out) == read_cassette(src)


@pytest.mark.parametrize(
    ("size", "tty", "ci", "wanted"),
    [
        (10**9, True, "", True),
        (10**9, True, "true", False),
        (10**9, False, "", False),
        (10, True, "", False),
    ],
)
def test_progress_wanted(
    monkeypatch: pytest.MonkeyPatch, size: int, tty: bool, ci: str, wanted: bool
) -> None:
    class Stream:
        def isatty(self) -> bool:
            return tty

    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(inputs.sys, "stderr", Stream())
    assert inputs.progress_wanted(size) is wanted


# --------------------------------------------------------------------------- convert

RICH_EVENTS = [
    RecordedEvent(
        0,
        "Quote",
        {"price": 67500.0, "volume": 1234.56, "big": 2**70, "neg": -0.0},
        "MarketDataAgent",
    ),
    RecordedEvent(
        12.345678,
        "Odd strings",
        {
            "yes": "yes",
            "null": "null",
            "date": "2025-01-01",
            "num": "1e3",
            "empty": "",
            "unicode": "héllo ✓ 日本",
            "multi": "a\nb\tc",
            "quote": "'\"",
            "colon": "a: b",
        },
        None,
    ),
    RecordedEvent(
        20,
        "Nested",
        {"a": [[], {}, [1, [2, {"b": None}]]], "bool": [True, False]},
        "Bot",
        event_type="my.events.Nested",
        metadata={"trace": "abc", "n": 1},
    ),
    RecordedEvent(20, "Bytes", {"__bytes__": "AAEC"}, "Bot"),
    RecordedEvent(30, "Scalar data", 42, "Bot"),
    RecordedEvent(31, "List data", ["x", 1.5], "Bot"),
]
RICH = Cassette.build("rich ✓", RICH_EVENTS, start_time=START, metadata={"host": "ci", "n": [1]})


@pytest.mark.parametrize("src_suffix", FORMATS)
@pytest.mark.parametrize("dst_suffix", FORMATS)
def test_convert_is_lossless_between_every_pair(
    cli: Invoke,
    make_cassette: Callable[..., Path],
    tmp_path: Path,
    src_suffix: str,
    dst_suffix: str,
) -> None:
    src = make_cassette(f"src.{src_suffix}", RICH)
    out = tmp_path / f"dst.{dst_suffix}"
    result = cli("convert", src, out)
    assert result.exit_code == 0, result.output
    assert f"wrote 6 events to {out}" in result.stderr
    assert read_cassette(out).to_dict() == read_cassette(src).to_dict()
    assert read_cassette(out).to_dict() == RICH.to_dict()


def test_convert_jsonl_keeps_the_header_as_written(cli: Invoke, tmp_path: Path) -> None:
    src = tmp_path / "live.jsonl"
    header = {
        "version": 1,
        "session_name": "live",
        "start_time": START,
        "duration_ms": 0.0,
        "total_events": 0,
        "metadata": {"writer": "stream"},
    }
    events = [RecordedEvent(i, "E", {"i": i}).to_dict() for i in range(3)]
    src.write_text("".join(json.dumps(x) + "\n" for x in [header, *events]))
    out = tmp_path / "live.jsonl.gz"
    assert cli("convert", src, out).exit_code == 0
    assert read_header(out) == read_header(src)
    assert read_cassette(out) == read_cassette(src)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(JSON_VALUES, min_size=1, max_size=3))
def test_convert_round_trips_arbitrary_json_data(
    cli: Invoke, tmp_path: Path, payloads: list[Any]
) -> None:
    events = [RecordedEvent(float(i), f"E{i}", data) for i, data in enumerate(payloads)]
    original = Cassette.build("prop", events, start_time=START)
    first = tmp_path / "a.yaml"
    formats_module.write_cassette(first, original)
    chain = [first, tmp_path / "b.jsonl.gz", tmp_path / "c.yml", tmp_path / "d.json"]
    for src, dst in itertools.pairwise(chain):
        assert cli("convert", src, dst, "--force").exit_code == 0  # hypothesis runs again
    assert _same(read_cassette(chain[-1]).to_dict(), original.to_dict())


def _same(a: Any, b: Any) -> bool:
    """Equality that also tells -0.0 from 0.0 and 1 from 1.0 (lossless means same type)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(
    ("src_name", "content", "out_name", "fragment"),
    [
        ("in.json", None, "out.txt", "unknown cassette format"),
        ("in.txt", b"{}", "out.json", "unknown cassette format"),
        (
            "in.json",
            b'{"events": 5, "session_name": "s", "start_time": "2025-01-01T00:00:00Z"}',
            "out.yaml",
            "events",
        ),
        ("in.yaml", b"a: [\n", "out.json", "not valid YAML"),
        ("in.jsonl", b"{}\n", "out.json", "line 1, field 'session_name': required"),
    ],
)
def test_convert_bad_input(
    cli: Invoke,
    tmp_path: Path,
    src_name: str,
    content: bytes | None,
    out_name: str,
    fragment: str,
) -> None:
    src = tmp_path / src_name
    if content is not None:
        src.write_bytes(content)
    else:
        formats_module.write_cassette(src, sample_cassette())
    result = cli("convert", src, tmp_path / out_name)
    assert result.exit_code == 2
    assert fragment in one_error_line(result)
    assert not (tmp_path / out_name).exists()


def test_convert_missing_input(cli: Invoke, tmp_path: Path) -> None:
    result = cli("convert", tmp_path / "nope.jsonl", tmp_path / "out.json")
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {tmp_path / 'nope.jsonl'}: no such file"
