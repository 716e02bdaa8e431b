"""Cassette files: every format round-trips, the seed's file loads, bad files say what is wrong."""

from __future__ import annotations

import contextlib
import gc
import gzip
import json
import os
import warnings
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    CassetteHeader,
    RecordedEvent,
    TruncatedCassetteWarning,
    UnknownFieldWarning,
    codec,
    formats,
    iter_events,
    read_cassette,
    read_header,
    write_cassette,
)
from pytest_eventrecorder.formats import (
    EventStream,
    cassette_format,
    is_cassette_path,
    iter_event_blocks,
    write_events,
)

SUFFIXES = [".json", ".yaml", ".yml", ".jsonl"]
ALL_SUFFIXES = SUFFIXES + [s + ".gz" for s in SUFFIXES]

SEED_JSON = """{
  "session_name": "bull_run_2025",
  "start_time": "2025-10-17T10:00:00Z",
  "duration_ms": 45000,
  "total_events": 127,
  "events": [
    {
      "timestamp_offset_ms": 0,
      "event_name": "MarketDataReceived",
      "event_data": {
        "symbol": "BTC/USDT",
        "price": 67500.0,
        "volume": 1234.56
      },
      "source": "MarketDataAgent"
    },
    {
      "timestamp_offset_ms": 1000,
      "event_name": "PositionOpened",
      "event_data": {
        "symbol": "BTC/USDT",
        "side": "buy",
        "size": 0.1
      },
      "source": "TradingBot"
    }
  ]
}
"""


def sample_cassette() -> Cassette:
    events = [
        RecordedEvent(0, "MarketDataReceived", {"symbol": "BTC/USDT", "price": 67500.0}, "agent"),
        RecordedEvent(0.125, "Note", "plain text", None),
        RecordedEvent(
            1000.5,
            "PositionOpened",
            {"sizes": [0.1, 2], "nested": {"ok": True, "none": None}, "text": "é ✓ \n"},
            "TradingBot",
            event_type="my_project.events:PositionOpened",
            metadata={"trace_id": "abc"},
        ),
        RecordedEvent(1001, "Blob", {"__bytes__": "AAE="}, "bot"),
    ]
    return Cassette.build(
        "round_trip", events, start_time="2025-10-17T10:00:00.000Z", metadata={"env": "ci"}
    )


def write_text(path: Path, text: str | bytes) -> Path:
    data = text.encode() if isinstance(text, str) else text
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", ALL_SUFFIXES)
def test_every_format_round_trips(tmp_path: Path, suffix: str) -> None:
    cassette = sample_cassette()
    path = write_cassette(tmp_path / f"rec{suffix}", cassette)
    loaded = read_cassette(path)
    assert loaded.events == cassette.events
    assert loaded.header == cassette.header
    assert list(iter_events(path)) == list(cassette.events)
    assert read_header(path).session_name == "round_trip"


@pytest.mark.parametrize("suffix", [".json.gz", ".jsonl.gz", ".yaml.gz"])
def test_gz_files_really_are_gzip(tmp_path: Path, suffix: str) -> None:
    path = write_cassette(tmp_path / f"rec{suffix}", sample_cassette())
    assert gzip.decompress(path.read_bytes())


def test_json_is_indented_and_has_the_seed_fields(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "rec.json", sample_cassette())
    text = path.read_text()
    doc = json.loads(text)
    assert text.startswith('{\n  "version"')
    assert list(doc) == [
        "version",
        "session_name",
        "start_time",
        "duration_ms",
        "total_events",
        "metadata",
        "events",
    ]
    assert doc["version"] == FORMAT_VERSION
    assert doc["total_events"] == 4
    assert doc["duration_ms"] == 1001
    assert list(doc["events"][0]) == ["timestamp_offset_ms", "event_name", "event_data", "source"]
    assert doc["events"][2]["event_type"] == "my_project.events:PositionOpened"


def test_yaml_is_block_style_and_never_aliases_shared_objects(tmp_path: Path) -> None:
    shared = {"symbol": "BTC/USDT"}
    events = [RecordedEvent(i, "Tick", shared, "feed") for i in range(2)]
    path = write_cassette(tmp_path / "rec.yaml", Cassette.build("yaml", events))
    text = path.read_text()
    assert "&id" not in text
    assert "*id" not in text
    assert "- timestamp_offset_ms: 0\n" in text
    assert read_cassette(path).events == tuple(events)


def test_jsonl_has_a_header_line_then_one_event_per_line(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "rec.jsonl", sample_cassette())
    lines = path.read_text().splitlines()
    assert len(lines) == 5
    assert json.loads(lines[0])["session_name"] == "round_trip"
    assert json.loads(lines[3])["metadata"] == {"trace_id": "abc"}


def test_seed_json_without_version_or_event_type_loads(tmp_path: Path) -> None:
    cassette = read_cassette(write_text(tmp_path / "seed.json", SEED_JSON))
    assert cassette.header.version == 0
    assert cassette.header.session_name == "bull_run_2025"
    assert cassette.header.start_time == "2025-10-17T10:00:00Z"
    assert cassette.header.duration_ms == 45000
    assert cassette.header.total_events == 2  # counted, not trusted
    first, second = cassette.events
    assert first == RecordedEvent(
        0,
        "MarketDataReceived",
        {"symbol": "BTC/USDT", "price": 67500.0, "volume": 1234.56},
        "MarketDataAgent",
    )
    assert second.event_type is None
    assert second.metadata is None


def test_float_offsets_keep_sub_millisecond_precision(tmp_path: Path) -> None:
    events = [RecordedEvent(0.001, "A", {}), RecordedEvent(2.123456, "B", {})]
    for suffix in SUFFIXES:
        path = write_cassette(tmp_path / f"f{suffix}", Cassette.build("f", events))
        assert [e.timestamp_offset_ms for e in read_cassette(path).events] == [0.001, 2.123456]


def test_event_without_source_and_unknown_fields_loads(tmp_path: Path) -> None:
    doc = {
        "session_name": "s",
        "start_time": "2025-10-17T10:00:00Z",
        "future_field": 1,
        "events": [{"timestamp_offset_ms": 1, "event_name": "A", "event_data": None, "x": 2}],
    }
    with pytest.warns(UnknownFieldWarning) as warned:
        event = read_cassette(write_text(tmp_path / "u.json", json.dumps(doc))).events[0]
    assert event == RecordedEvent(1, "A", None)
    assert [str(w.message).split(" are ")[0] for w in warned] == [
        "header field(s) 'future_field'",
        "event field(s) 'x'",
    ]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(json_values, min_size=1, max_size=5),
    offsets=st.lists(st.floats(0, 1e9), min_size=5, max_size=5),
)
def test_any_json_data_round_trips_in_every_format(
    tmp_path_factory: pytest.TempPathFactory, data: list[object], offsets: list[float]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    events = [RecordedEvent(o, "E", d, "s") for o, d in zip(sorted(offsets), data, strict=False)]
    cassette = Cassette.build("prop", events, start_time="2025-01-01T00:00:00Z")
    for suffix in (".json", ".yaml", ".jsonl.gz"):
        assert read_cassette(write_cassette(folder / f"p{suffix}", cassette)).events == tuple(
            events
        )


# --------------------------------------------------------------------------- suffixes


def test_suffix_picks_the_format() -> None:
    assert cassette_format("a/b.json") == ("json", False)
    assert cassette_format("b.YAML") == ("yaml", False)
    assert cassette_format("b.yml.gz") == ("yaml", True)
    assert cassette_format("b.v2.jsonl.gz") == ("jsonl", True)
    assert is_cassette_path("x.jsonl")
    assert not is_cassette_path("x.txt")


@pytest.mark.parametrize("name", ["rec.txt", "rec", "rec.gz", "rec.json.zip"])
def test_unknown_suffix_is_a_cassette_error_naming_the_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("{}")
    with pytest.raises(CassetteError, match="unknown cassette format") as caught:
        read_cassette(path)
    assert name in str(caught.value)
    with pytest.raises(CassetteError):
        write_cassette(path, sample_cassette())


@pytest.mark.parametrize("suffix", ALL_SUFFIXES)
def test_missing_file_is_file_not_found(tmp_path: Path, suffix: str) -> None:
    with pytest.raises(FileNotFoundError):
        read_cassette(tmp_path / f"nope{suffix}")
    with pytest.raises(FileNotFoundError):
        list(iter_events(tmp_path / f"nope{suffix}"))


# --------------------------------------------------------------------------- bad input


def seed_doc(**event_changes: object) -> dict[str, object]:
    event: dict[str, object] = {
        "timestamp_offset_ms": 5,
        "event_name": "E",
        "event_data": {},
        "source": "s",
    }
    event.update(event_changes)
    event = {k: v for k, v in event.items() if v is not DROP}
    return {"session_name": "s", "start_time": "2025-10-17T10:00:00Z", "events": [{**event}]}


DROP = object()

BAD_EVENTS = [
    ({"timestamp_offset_ms": -1}, "timestamp_offset_ms", ">= 0"),
    ({"timestamp_offset_ms": "5"}, "timestamp_offset_ms", "must be a number, got str"),
    ({"timestamp_offset_ms": True}, "timestamp_offset_ms", "must be a number, got bool"),
    ({"timestamp_offset_ms": None}, "timestamp_offset_ms", "must be a number, got null"),
    ({"timestamp_offset_ms": DROP}, "timestamp_offset_ms", "required field is missing"),
    ({"event_name": 3}, "event_name", "must be a string, got int"),
    ({"event_name": DROP}, "event_name", "required field is missing"),
    ({"event_data": DROP}, "event_data", "required field is missing"),
    ({"source": 7}, "source", "must be a string or null, got int"),
    ({"event_type": ["x"]}, "event_type", "must be a string or null, got list"),
    ({"metadata": "x"}, "metadata", "must be an object, got str"),
]


@pytest.mark.parametrize(("change", "field", "problem"), BAD_EVENTS)
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_bad_event_field_names_file_index_and_field(
    tmp_path: Path, suffix: str, change: dict[str, object], field: str, problem: str
) -> None:
    doc = seed_doc(**change)
    path = tmp_path / f"bad{suffix}"
    if suffix == ".jsonl":
        header = {k: v for k, v in doc.items() if k != "events"}
        lines = [json.dumps(header), json.dumps(doc["events"][0])]  # type: ignore[index]
        path.write_text("\n".join(lines) + "\n")
    elif suffix == ".yaml":
        path.write_text(yaml.safe_dump(doc))
    else:
        path.write_text(json.dumps(doc))
    with pytest.raises(CassetteError) as caught:
        read_cassette(path)
    error = caught.value
    assert (error.path, error.index, error.field) == (path, 0, field)
    assert problem in str(error)
    assert str(path) in str(error)
    assert "event 0" in str(error)
    assert repr(field) in str(error)
    if suffix == ".jsonl":
        assert error.line == 2
        assert "line 2" in str(error)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z", '
            '"events": [{"timestamp_offset_ms": NaN, "event_name": "E", "event_data": 1}]}',
            "NaN is not a JSON number",
        ),
        (
            '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z", '
            '"events": [{"timestamp_offset_ms": Infinity, "event_name": "E", "event_data": 1}]}',
            "Infinity is not a JSON number",
        ),
        (
            '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z", '
            '"events": [{"timestamp_offset_ms": 1e999, "event_name": "E", "event_data": 1}]}',
            "finite number >= 0, got inf",
        ),
    ],
)
def test_non_finite_offsets_are_cassette_errors(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(CassetteError, match=problem):
        read_cassette(write_text(tmp_path / "nan.json", text))


@pytest.mark.parametrize(
    ("doc", "field", "problem"),
    [
        ([1, 2], None, "a cassette must be an object, got list"),
        ("text", None, "a cassette must be an object, got str"),
        (None, None, "a cassette must be an object, got null"),
        ({"start_time": "2025-10-17T10:00:00Z", "events": []}, "session_name", "missing"),
        (
            {"session_name": "", "start_time": "2025-10-17T10:00:00Z", "events": []},
            "session_name",
            "non-empty string",
        ),
        ({"session_name": "s", "events": []}, "start_time", "missing"),
        ({"session_name": "s", "start_time": "yesterday", "events": []}, "start_time", "ISO-8601"),
        ({"session_name": "s", "start_time": 5, "events": []}, "start_time", "got int"),
        ({"session_name": "s", "start_time": "2025-10-17T10:00:00Z"}, "events", "not a list"),
        (
            {"session_name": "s", "start_time": "2025-10-17T10:00:00Z", "events": {}},
            "events",
            "not a list",
        ),
        (
            {
                "session_name": "s",
                "start_time": "2025-10-17T10:00:00Z",
                "events": [],
                "duration_ms": -1,
            },
            "duration_ms",
            ">= 0",
        ),
        (
            {
                "session_name": "s",
                "start_time": "2025-10-17T10:00:00Z",
                "events": [],
                "total_events": 1.5,
            },
            "total_events",
            "whole number",
        ),
        (
            {
                "session_name": "s",
                "start_time": "2025-10-17T10:00:00Z",
                "events": [],
                "version": 99,
            },
            "version",
            "newer than this tool",
        ),
        (
            {
                "session_name": "s",
                "start_time": "2025-10-17T10:00:00Z",
                "events": [],
                "metadata": [],
            },
            "metadata",
            "must be an object",
        ),
        (
            {"session_name": "s", "start_time": "2025-10-17T10:00:00Z", "events": [3]},
            None,
            "an event must be an object, got int",
        ),
    ],
)
def test_bad_document_structure_is_a_cassette_error(
    tmp_path: Path, doc: object, field: str | None, problem: str
) -> None:
    path = write_text(tmp_path / "bad.json", json.dumps(doc))
    with pytest.raises(CassetteError, match=problem) as caught:
        read_cassette(path)
    assert caught.value.field == field
    assert caught.value.path == path


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_invalid_utf8_is_a_cassette_error_with_its_line(tmp_path: Path, suffix: str) -> None:
    header = '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z"'
    event = '{"timestamp_offset_ms": 1, "event_name": "E", "event_data": "\xff", "source": null}'
    if suffix == ".jsonl":
        body = f"{header}}}\n{event}\n{event}\n"
        bad_line = 2
    else:
        body = f'{header},\n"events": [\n{event}\n]}}\n'
        bad_line = 3
    data = body.encode("utf-8").replace("\xff".encode(), b"\xff")
    path = tmp_path / f"latin{suffix}"
    path.write_bytes(data)
    with pytest.raises(CassetteError, match="not valid UTF-8") as caught:
        read_cassette(path)
    assert caught.value.line == bad_line


@pytest.mark.parametrize(
    "text",
    ['{"session_name": "s",', "", "{'single': 'quotes'}", '{"a": 1} trailing'],
)
def test_broken_json_is_a_cassette_error_with_its_line(tmp_path: Path, text: str) -> None:
    with pytest.raises(CassetteError, match="not valid JSON") as caught:
        read_cassette(write_text(tmp_path / "broken.json", text))
    assert caught.value.line is not None


def test_deeply_nested_json_is_a_cassette_error(tmp_path: Path) -> None:
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(CassetteError, match="nested too deeply to read"):
        read_cassette(write_text(tmp_path / "deep.json", text))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("session_name: [unclosed\n", "not valid YAML"),
        ("a: 1\n b: 2\n  - c\n", "not valid YAML"),
        ("!!python/object:os.system {}\n", "not valid YAML"),
        ("session_name: s\nstart_time: 2025-10-17\nevents:\n- {1: a}\n", "keys must be strings"),
        ("session_name: s\nstart_time: 2025-10-17\nevents: [.inf]\n", "finite numbers"),
        ("session_name: s\nstart_time: 2025-10-17\nevents: &a [*a]\n", "refers back"),
        ("session_name: s\nstart_time: 2025-10-17\nevents: [!!binary aGk=]\n", "no JSON equiv"),
    ],
)
def test_bad_yaml_is_a_cassette_error(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(CassetteError, match=problem) as caught:
        read_cassette(write_text(tmp_path / "bad.yaml", text))
    assert caught.value.path == tmp_path / "bad.yaml"


def test_yaml_error_names_its_line(tmp_path: Path) -> None:
    text = "session_name: s\nstart_time: x\nevents:\n  - a: [1\n"
    with pytest.raises(CassetteError) as caught:
        read_cassette(write_text(tmp_path / "bad.yml", text))
    assert caught.value.line is not None
    assert caught.value.line >= 4


def test_yaml_dates_read_as_iso_text(tmp_path: Path) -> None:
    text = (
        "session_name: s\nstart_time: 2025-10-17T10:00:00Z\nevents:\n"
        "- {timestamp_offset_ms: 0, event_name: E, event_data: {day: 2025-10-17}}\n"
    )
    event = read_cassette(write_text(tmp_path / "d.yaml", text)).events[0]
    assert event.event_data == {"day": "2025-10-17"}


@pytest.mark.parametrize("suffix", [".json.gz", ".yaml.gz", ".jsonl.gz"])
def test_a_file_that_is_not_gzip_is_a_cassette_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"plain{suffix}"
    path.write_text(SEED_JSON)
    with pytest.raises(CassetteError, match="not a readable gzip file") as caught:
        read_cassette(path)
    assert caught.value.path == path


def test_a_truncated_gzip_document_is_a_cassette_error(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "cut.json.gz", sample_cassette())
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(CassetteError, match="gzip"):
        read_cassette(path)


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_JSON.encode())
    assert read_cassette(path).header.session_name == "bull_run_2025"


# --------------------------------------------------------------------------- .jsonl specifics

HEADER_LINE = '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z"}'


def jsonl_line(i: int) -> str:
    return json.dumps(
        {"timestamp_offset_ms": i, "event_name": "E", "event_data": {"i": i}, "source": None}
    )


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_truncated_last_line_is_a_warning_not_fatal(tmp_path: Path, suffix: str) -> None:
    text = "\n".join([HEADER_LINE, jsonl_line(0), jsonl_line(1), jsonl_line(2)[:-9]])
    path = write_text(tmp_path / f"cut{suffix}", text)
    with pytest.warns(TruncatedCassetteWarning, match="line 4 is incomplete"):
        events = list(iter_events(path))
    assert [e.event_data for e in events] == [{"i": 0}, {"i": 1}]


def test_truncated_inside_a_multibyte_character_is_a_warning(tmp_path: Path) -> None:
    last = '{"timestamp_offset_ms": 2, "event_name": "E", "event_data": "✓'.encode()[:-1]
    data = "\n".join([HEADER_LINE, jsonl_line(0), ""]).encode() + last
    path = tmp_path / "mb.jsonl"
    path.write_bytes(data)
    with pytest.warns(TruncatedCassetteWarning, match="line 3"):
        assert len(list(iter_events(path))) == 1


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = write_text(tmp_path / "nonl.jsonl", "\n".join([HEADER_LINE, jsonl_line(0)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(iter_events(path))) == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_corrupted_middle_line_is_an_error(tmp_path: Path, suffix: str) -> None:
    lines = [HEADER_LINE, jsonl_line(0), jsonl_line(1)[:-9], jsonl_line(2)]
    path = write_text(tmp_path / f"mid{suffix}", "\n".join(lines) + "\n")
    with pytest.raises(CassetteError, match="not valid JSON") as caught:
        list(iter_events(path))
    assert caught.value.line == 3
    assert "line 3" in str(caught.value)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"timestamp_offset_ms": 1} {"x": 2}', "not valid JSON"),
        ("[1, 2]", "an event must be an object, got list"),
        ('"text"', "an event must be an object, got str"),
        ('{"timestamp_offset_ms": NaN, "event_name": "E", "event_data": 1}', "NaN"),
        ('{"timestamp_offset_ms": 1e999, "event_name": "E", "event_data": 1}', "finite"),
    ],
)
def test_bad_jsonl_lines_are_errors(tmp_path: Path, line: str, problem: str) -> None:
    path = write_text(tmp_path / "bad.jsonl", "\n".join([HEADER_LINE, jsonl_line(0), line, ""]))
    with pytest.raises(CassetteError, match=problem) as caught:
        list(iter_events(path))
    assert caught.value.line == 3


def test_blank_and_padded_lines_are_accepted(tmp_path: Path) -> None:
    text = "\n".join([HEADER_LINE, "", "  " + jsonl_line(0) + " \r", "   ", jsonl_line(1), ""])
    events = list(iter_events(write_text(tmp_path / "pad.jsonl", text)))
    assert [e.timestamp_offset_ms for e in events] == [0, 1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "starts with a header line"),
        ("\n" + jsonl_line(0), "starts with a header line"),
        ('{"session_name": "s"\n', "not valid JSON"),
        (
            '{"session_name": "s", "start_time": "2025-10-17T10:00:00Z", "events": []}\n',
            "whole JSON cassette",
        ),
        ("[1]\n", "a cassette must be an object"),
    ],
)
def test_bad_jsonl_header_is_an_error_on_line_1(tmp_path: Path, text: str, problem: str) -> None:
    path = write_text(tmp_path / "h.jsonl", text)
    with pytest.raises(CassetteError, match=problem) as caught:
        read_header(path)
    assert caught.value.line == 1


def test_a_bad_header_leaves_no_file_open(tmp_path: Path) -> None:
    path = write_text(tmp_path / "h.jsonl", "[1]\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with contextlib.suppress(CassetteError):
            read_header(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_jsonl_is_read_in_blocks_not_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 256)
    events = [RecordedEvent(i, "E", {"i": i, "pad": "x" * 40}) for i in range(40)]
    path = write_cassette(tmp_path / "big.jsonl", Cassette.build("big", events))
    blocks = [(block.first_index, list(block.events)) for block in iter_event_blocks(path)]
    assert len(blocks) > 5
    assert [first for first, _ in blocks] == [
        sum(len(events) for _, events in blocks[:i]) for i in range(len(blocks))
    ]
    assert [e for _, events in blocks for e in events] == events


def test_unread_events_of_a_block_still_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 256)
    events = [RecordedEvent(i, "E", {"i": i, "pad": "x" * 40}) for i in range(40)]
    path = write_cassette(tmp_path / "skip.jsonl", Cassette.build("skip", events))
    firsts = [block.first_index for block in iter_event_blocks(path)]  # events left unread
    assert firsts == sorted(set(firsts))
    assert firsts[-1] > 30


def test_a_line_longer_than_a_block_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 64)
    events = [RecordedEvent(0, "Big", {"blob": "y" * 1000}), RecordedEvent(1, "Small", {})]
    path = write_cassette(tmp_path / "long.jsonl", Cassette.build("long", events))
    assert list(iter_events(path)) == events


def test_error_line_numbers_stay_right_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "BLOCK_BYTES", 200)
    lines = [HEADER_LINE] + [jsonl_line(i) for i in range(30)] + ["{broken", jsonl_line(99)]
    path = write_text(tmp_path / "lines.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(CassetteError) as caught:
        list(iter_events(path))
    assert caught.value.line == 32


def test_blocks_flag_only_data_that_needs_restoring(tmp_path: Path) -> None:
    plain = Cassette.build("p", [RecordedEvent(0, "E", {"a": 1})])
    tagged = Cassette.build("t", [RecordedEvent(0, "E", {"b": {"__bytes__": "AA=="}})])
    assert not next(iter_event_blocks(write_cassette(tmp_path / "p.jsonl", plain))).tagged
    assert next(iter_event_blocks(write_cassette(tmp_path / "t.jsonl", tagged))).tagged


def test_read_header_of_jsonl_reads_only_the_first_line(tmp_path: Path) -> None:
    path = write_text(tmp_path / "h.jsonl", HEADER_LINE + "\n{garbage\n")
    assert read_header(path).session_name == "s"


# --------------------------------------------------------------------------- atomic writes


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "keep.jsonl", sample_cassette())
    before = path.read_bytes()

    def events_then_crash() -> object:
        yield RecordedEvent(0, "E", {})
        raise RuntimeError("disk on fire")

    header = CassetteHeader("new", "2025-10-17T10:00:00Z")
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_events(path, header, events_then_crash())  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]


def test_unwritable_data_leaves_no_trace(tmp_path: Path) -> None:
    bad = Cassette.build("bad", [RecordedEvent(0, "E", {"x": object()})])
    with pytest.raises(TypeError):
        write_cassette(tmp_path / "bad.json", bad)
    assert list(tmp_path.iterdir()) == []


def test_write_is_fsynced_then_renamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_cassette(tmp_path / "sync.json", sample_cassette())
    assert calls[:2] == ["fsync", "replace"]


def test_new_files_get_ordinary_permissions(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "mode.json", sample_cassette())
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_creates_missing_folders(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "a" / "b" / "c.yaml", sample_cassette())
    assert read_cassette(path).events == sample_cassette().events


# --------------------------------------------------------------------------- EventStream


def test_event_stream_appends_and_finalizes(tmp_path: Path) -> None:
    header = CassetteHeader("live", "2025-10-17T10:00:00Z")
    stream = EventStream(tmp_path / "live.jsonl", header)
    stream.append(RecordedEvent(0, "A", {}))
    stream.append(RecordedEvent(1.5, "B", {}))
    assert [e.event_name for e in iter_events(stream.path)] == ["A", "B"]  # readable already
    stream.finalize(CassetteHeader("live", "2025-10-17T10:00:00Z", 1.5, 2))
    assert stream.closed
    assert read_header(stream.path).total_events == 2


def test_event_stream_gz_is_readable_before_close(tmp_path: Path) -> None:
    header = CassetteHeader("live", "2025-10-17T10:00:00Z")
    stream = EventStream(tmp_path / "live.jsonl.gz", header)
    stream.append(RecordedEvent(0, "A", {"x": 1}))
    assert [e.event_name for e in iter_events(stream.path)] == ["A"]
    stream.close()
    assert [e.event_name for e in iter_events(stream.path)] == ["A"]


def test_event_stream_needs_jsonl(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match=r"streaming needs a \.jsonl"):
        EventStream(tmp_path / "x.json", CassetteHeader("s", "2025-10-17T10:00:00Z"))


@pytest.mark.parametrize("suffix", [".json.gz", ".yaml.gz"])
def test_a_gzip_bomb_is_refused_before_it_fills_memory(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", 1024 * 1024)
    path = tmp_path / f"bomb{suffix}"
    path.write_bytes(gzip.compress(b" " * (64 * 1024 * 1024)))  # ~64 KB inflating 1000x
    with pytest.raises(CassetteError, match="likely gzip bomb") as caught:
        read_cassette(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("header", [b"", b'{"session_name": "s", "start_time": "2025-10-17"}\n'])
def test_a_jsonl_gzip_bomb_line_is_refused_before_it_fills_memory(
    tmp_path: Path, header: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", 1024 * 1024)
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(header + b" " * (64 * 1024 * 1024)))  # one endless line
    with pytest.raises(CassetteError, match="likely gzip bomb") as caught:
        list(iter_events(path))
    assert str(path) in str(caught.value)
    assert f"line {2 if header else 1}" in str(caught.value)


def _heartbeats(tmp_path: Path) -> tuple[Path, int]:
    events = (RecordedEvent(0, "Heartbeat", {"ok": True}, "feed") for _ in range(50_000))
    path = write_events(tmp_path / "beats.jsonl.gz", CassetteHeader("s", "2025-10-17"), events)
    inflated = len(gzip.decompress(path.read_bytes()))
    assert inflated > formats.MAX_INFLATE_RATIO * path.stat().st_size  # past the ratio
    return path, inflated


def test_a_well_compressed_jsonl_gz_under_the_floor_still_streams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, inflated = _heartbeats(tmp_path)
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", inflated)
    assert sum(1 for _ in iter_events(path)) == 50_000


def test_a_jsonl_gz_inflating_past_the_cap_in_total_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines each within the cap still add up: the whole stream is capped as well."""
    path, inflated = _heartbeats(tmp_path)
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", inflated // 2)
    with pytest.raises(CassetteError, match="likely gzip bomb") as caught:
        list(iter_events(path))
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_jsonl_of_blank_lines_is_refused(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MAX_BLANK_LINES", 1000)
    header = b'{"session_name": "s", "start_time": "2025-10-17"}\n'
    event = b'{"timestamp_offset_ms":0,"event_name":"E","event_data":1}\n'
    text = header + b"\n \t\r\n" * 600 + event
    path = tmp_path / f"blank{suffix}"
    path.write_bytes(gzip.compress(text) if suffix.endswith(".gz") else text)
    with pytest.raises(CassetteError, match="more than 1,000 blank lines") as caught:
        list(iter_events(path))
    assert str(caught.value).startswith(f"{path}, line 1002:")  # the 1,001st blank line


def test_a_few_blank_lines_are_still_skipped(tmp_path: Path) -> None:
    header = b'{"session_name": "s", "start_time": "2025-10-17"}\n'
    event = b'{"timestamp_offset_ms":0,"event_name":"E","event_data":1}\n'
    path = tmp_path / "gaps.jsonl"
    path.write_bytes(header + (event + b"\n\n") * 100)
    assert sum(1 for _ in iter_events(path)) == 100


@pytest.mark.parametrize("suffix", [".json.gz", ".yaml.gz", ".jsonl.gz"])
def test_a_cassette_readers_would_refuse_is_not_written(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", 1024)
    events = [RecordedEvent(i, "Same", {"text": "x" * 3000}) for i in range(200)]
    path = tmp_path / f"repetitive{suffix}"
    path.write_text("the previous file")
    with pytest.raises(CassetteError, match=r"more than readers accept .*write it as \.jsonl,"):
        write_cassette(path, Cassette.build("s", events))
    assert path.read_text() == "the previous file"  # nothing half-written replaced it
    streamed = write_cassette(tmp_path / "repetitive.jsonl", Cassette.build("s", events))
    assert len(read_cassette(streamed).events) == 200


def test_a_well_compressed_cassette_under_the_limit_still_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MIN_INFLATE_LIMIT", 1024)
    events = [RecordedEvent(i, "Tick", {"price": 100.0}, "feed") for i in range(2000)]
    path = write_cassette(tmp_path / "ticks.json.gz", Cassette.build("ticks", events))
    assert len(read_cassette(path).events) == 2000


# --------------------------------------------------------------------------- tag look-up


@pytest.mark.parametrize(
    ("text", "may"),
    [
        (b'{"a":{"__bytes__":"AA=="}}', True),
        (b'{"a":1}\n{"b":{"__set__":[]}}', True),
        (b'{"\\u005f_bytes__":"AA=="}', True),
        (b'{"_\\u005Fbytes__":"AA=="}', True),
        (b'{"a":"x\\ny","b__":1,"_":"x__"}', False),
        (b'{"a":"\\\\u005f"}', True),  # an escaped backslash: a false alarm, allowed
        (b"", False),
    ],
)
def test_may_hold_tags_never_misses_a_tagged_key(text: bytes, may: bool) -> None:
    assert formats.may_hold_tags(text) is may


def _odd_lines() -> list[str]:
    """Event lines the typed fast read leaves to the general one, among plain ones."""
    odd = [
        '{"timestamp_offset_ms": 1e2, "event_name": "E", "event_data": 1, "source": "s"}',
        '{"timestamp_offset_ms": 2, "event_name": "E", "event_data": {}}',
        '{"timestamp_offset_ms": 3, "event_name": "E", "event_data": 1, "source": null, "x": 1}',
        '{"timestamp_offset_ms": 4, "event_name": "E", "event_data": [], "source": null,'
        ' "event_type": "T", "metadata": {"k": 1}}',
        '{"timestamp_offset_ms": ' + str(2**70) + ', "event_name": "E", "event_data": null}',
        '{"timestamp_offset_ms": -0.0, "event_name": "E", "event_data": "\\ud800", "source": null}',
        '{"event_data": "y" , "source": "s", "event_name": "E", "timestamp_offset_ms": 5}\r',
        "",
    ]
    lines = [jsonl_line(i) for i in range(60)]
    for at, line in zip(range(5, 60, 7), odd, strict=False):
        lines[at] = line
    return lines


@pytest.mark.parametrize("piece", [1, 150, 1000, 16 * 1024])
def test_jsonl_lines_read_as_the_full_check_reads_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    monkeypatch.setattr(formats, "LINES_PIECE_BYTES", piece)
    lines = _odd_lines()
    path = write_text(tmp_path / "odd.jsonl", "\n".join([HEADER_LINE, *lines, ""]))
    with pytest.warns(UnknownFieldWarning, match="'x'"):
        events = [e for block in iter_event_blocks(path) for e in block.events]
    with pytest.warns(UnknownFieldWarning):
        expected = [RecordedEvent.from_dict(json.loads(line)) for line in lines if line]
    assert events == expected
    offsets = [(e.timestamp_offset_ms, type(e.timestamp_offset_ms)) for e in events]
    assert offsets == [(e.timestamp_offset_ms, type(e.timestamp_offset_ms)) for e in expected]
    assert [e.__dict__ for e in events if len(e.__dict__) == 4] == [
        json.loads(line) for line in lines if len(json.loads(line or "{}")) == 4
    ]


@pytest.mark.parametrize("piece", [1, 150, 16 * 1024])
def test_a_bad_line_past_many_pieces_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    monkeypatch.setattr(formats, "LINES_PIECE_BYTES", piece)
    lines = [HEADER_LINE, *[jsonl_line(i) for i in range(300)], jsonl_line(7)[:-1] + ', "n": }']
    path = write_text(tmp_path / "bad.jsonl", "\n".join([*lines, jsonl_line(1), ""]))
    with pytest.raises(CassetteError) as caught:
        list(iter_event_blocks(path))
    assert caught.value.line == 302
    negative = [*lines[:-1], jsonl_line(1).replace(": 1,", ": -1,", 1)]
    path.write_text("\n".join(negative) + "\n")
    with pytest.raises(CassetteError, match=">= 0") as caught:
        list(iter_event_blocks(path))
    assert (caught.value.line, caught.value.index) == (302, 300)


def test_with_msgspec_only_the_pieces_holding_a_tag_are_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "LINES_PIECE_BYTES", 300)
    events = [RecordedEvent(i, "E", {"i": i}) for i in range(40)]
    events[25] = RecordedEvent(25, "E", {"b": {"__bytes__": "AA=="}})
    path = write_cassette(tmp_path / "one.jsonl", Cassette.build("one", events))
    blocks = list(iter_event_blocks(path))
    assert [e for block in blocks for e in block.events] == events
    holding = [block.tagged for block in blocks if events[25] in block.events]
    assert holding == [True]
    flagged = sum(len(block.events) for block in blocks if block.tagged)
    assert flagged < 10 if codec.FAST_DECODE else flagged == 40
