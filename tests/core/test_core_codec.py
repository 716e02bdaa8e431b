"""The fast codec (the ``[fast]`` extra) reads and writes exactly what the standard library does.

Run as part of the suite with orjson installed, and again by ``test_core_codec_stdlib.py``
in a subprocess where orjson is blocked: both ways must pass."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest

from pytest_eventrecorder import codec
from pytest_eventrecorder.cassette import Cassette, CassetteError, CassetteHeader, RecordedEvent
from pytest_eventrecorder.formats import read_cassette, write_cassette

DECODE_CORPUS = [
    '{"a":1,"a":2}',
    "-0",
    "-0.0",
    "1e400",
    "-1e400",
    "[1.0, 1E5, 0.1e1, 5e-324]",
    '"\\ud800"',
    '"\\udc00x\\ud83d\\ude00"',
    "123456789012345678901234567890",
    "-9223372036854775809",
    "18446744073709551616",
    "9999999999999999999",
    "-9999999999999999999",
    '{"id": "1234567890123456789012"}',
    "NaN",
    "[Infinity]",
    "-Infinity",
    '{"a": nan}',
    "[1,]",
    "01",
    '"\x01"',
    '"tab\there"',
    "[" * 2000 + "]" * 2000,
    '{"é": "\\u00e9", "\\u2028": "\\/"}',
    " [] ",
    "",
    "{",
    "[1] x",
    "true",
    "null",
]


def _outcome(decode: object, text: str) -> object:
    try:
        return ("ok", repr(decode(text)))  # type: ignore[operator]
    except RecursionError:
        return ("error", "RecursionError")
    except (ValueError, CassetteError) as exc:
        return ("error", type(exc).__name__, str(exc))


@pytest.mark.parametrize("text", DECODE_CORPUS)
def test_loads_reads_and_refuses_what_the_standard_library_does(text: str) -> None:
    expected = _outcome(codec.DECODER.decode, text)
    assert _outcome(codec.loads, text) == expected
    assert _outcome(codec.loads, text.encode("utf-8", "surrogatepass")) == expected


def _floats(n: int) -> list[float]:
    rng = random.Random(19)
    shapes = [
        lambda: rng.random() * 10 ** rng.randint(-30, 30),
        lambda: rng.uniform(-1e6, 1e6),
        lambda: float(rng.randint(-(10**18), 10**18)),
        lambda: rng.random() / 10 ** rng.randint(0, 9),
    ]
    fixed = [1e16, 1e-5, 1e-7, 1e22, 1e15, 1e-4, -0.0, 5e-324, 1.7976931348623157e308, 0.1]
    return fixed + [rng.choice(shapes)() for _ in range(n)]


ENCODE_CORPUS: list[object] = [
    {"a": None, "b": [True, False, None], "c": {}},
    {"text": '\x7f\u2028\x1f"\\/\x00é😀', "lone": "\ud800", "tab": "\t\n\r\b\f"},
    {"ints": [0, -1, 2**63 - 1, -(2**63), 2**64, -(2**64) - 1, 10**40]},
    {"nested": [[[[{"deep": [1.5, {"x": []}]}]]]], "empty": [[], {}]},
    {"date-like": "2025-10-17T10:00:00Z", "n": 67_500.0, "v": 1_234.56},
    {"keys": {"": 1, " ": 2, "ü": 3}},
]


@pytest.mark.parametrize("value", [*ENCODE_CORPUS, _floats(20_000)])
def test_writes_the_standard_librarys_bytes(value: object) -> None:
    compact = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    assert codec.dumps_line(value) == (compact + "\n").encode("utf-8", "backslashreplace")
    indented = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    assert codec.dumps_indented(value) == indented


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_not_written_as_null(number: float) -> None:
    for dump in (codec.dumps_line, codec.dumps_indented):
        with pytest.raises(ValueError, match="Out of range float"):
            dump({"event_data": {"x": [1, number]}})


def test_deeper_than_orjson_writes_is_still_written() -> None:
    value: object = 1
    for _ in range(300):  # orjson stops at 255 levels
        value = [value]
    text = json.dumps(value, separators=(",", ":"))
    assert codec.dumps_line(value) == text.encode() + b"\n"


def test_a_non_string_key_is_written_as_the_standard_library_writes_it() -> None:
    assert codec.dumps_line({1: "a", 2.5: "b"}) == b'{"1":"a","2.5":"b"}\n'


def _cassette() -> Cassette:
    values = [*_floats(300), 2**70, 10**25, None]  # a null sends a whole line to the stdlib
    events = tuple(
        RecordedEvent(i * 0.5, "Tick", {"i": i, "f": value, "s": "é" if i % 9 else "\ud800"}, "s")
        for i, value in enumerate(values)
    )
    header = CassetteHeader("codec", "2025-10-17T10:00:00Z", metadata={"big": 2**65})
    return Cassette(header, events)


SUFFIXES = [".json", ".jsonl", ".yaml", ".json.gz", ".jsonl.gz"]


def write_every_format(folder: Path) -> None:
    """Used in-process and, by ``test_core_codec_stdlib.py``, with orjson blocked."""
    for suffix in SUFFIXES:
        write_cassette(folder / f"c{suffix}", _cassette())


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_files_read_back_to_what_was_written(tmp_path: Path, suffix: str) -> None:
    cassette = _cassette()
    write_cassette(tmp_path / f"c{suffix}", cassette)
    back = read_cassette(tmp_path / f"c{suffix}")
    assert back.header.metadata == cassette.header.metadata
    assert [e.to_dict() for e in back.events] == [e.to_dict() for e in cassette.events]


def test_the_fast_extra_is_in_use_when_installed() -> None:
    try:
        import msgspec  # noqa: F401
        import orjson  # noqa: F401
    except ImportError:
        assert not codec.FAST
    else:
        assert codec.FAST


def test_whole_documents_load_with_the_collector_paused_and_restored(tmp_path: Path) -> None:
    import gc

    path = tmp_path / "c.json"
    write_cassette(path, _cassette())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # a BOM, as some editors write
    assert gc.isenabled()
    assert len(read_cassette(path).events) == len(_cassette().events)
    assert gc.isenabled()
    path.write_bytes(b'{"session_name": "x", "start_time": "t", "events": [\xff]}')
    with pytest.raises(CassetteError, match=r"line 1: not valid UTF-8 \(byte 52\)"):
        read_cassette(path)
    assert gc.isenabled()
    gc.disable()
    try:
        write_cassette(path, _cassette())
        read_cassette(path)
        assert not gc.isenabled()  # paused by someone else: left to them
    finally:
        gc.enable()


def test_a_loaded_document_goes_to_the_oldest_generation_unwalked(tmp_path: Path) -> None:
    import gc

    path = tmp_path / "c.json"
    write_cassette(path, _cassette())
    events = read_cassette(path).events
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(e) in oldest for e in events)  # the next young collection skips them
    gc.freeze()  # someone else's frozen objects (these events): left frozen
    try:
        read_cassette(path)
        oldest = {id(o) for o in gc.get_objects(generation=2)}  # the frozen are not in it
        assert not any(id(e) in oldest for e in events)
    finally:
        gc.unfreeze()


# ------------------------------------------------------------------ typed .jsonl rows

PLAIN_ROW = '{"timestamp_offset_ms":5,"event_name":"E","event_data":{"a":[1,2.5]},"source":null}'
UNUSUAL_ROWS = [
    PLAIN_ROW + "\n\n" + PLAIN_ROW,  # a blank line
    PLAIN_ROW + " " + PLAIN_ROW,  # two values on one line
    PLAIN_ROW + PLAIN_ROW + "\n",  # two values on one line, then a blank line: as many values
    PLAIN_ROW + "\r" + PLAIN_ROW + "\n" + PLAIN_ROW.replace(',"event_name"', ',\n"event_name"'),
    PLAIN_ROW + "\n   ",  # a line of spaces
    PLAIN_ROW.replace(',"event_name"', ',\n"event_name"'),  # one value over two lines
    PLAIN_ROW.replace("null", '"s","x":1'),  # an unknown field
    PLAIN_ROW.replace("null", 'null,"event_type":"T"'),  # an optional field
    PLAIN_ROW.replace("null", 'null,"metadata":{}'),
    PLAIN_ROW.replace(',"source":null', ""),  # source missing
    PLAIN_ROW.replace(":5,", ":-1,"),
    PLAIN_ROW.replace(":5,", f":{2**64},"),
    PLAIN_ROW.replace(":5,", ":true,"),
    PLAIN_ROW.replace(":5,", ":1e400,"),
    PLAIN_ROW.replace('"E"', "7"),
    PLAIN_ROW.replace("[1,2.5]", '"\\ud800"'),  # a lone surrogate: the stdlib reads it
    PLAIN_ROW.replace("[1,2.5]", "NaN"),
    PLAIN_ROW[:-9],
    "[1]",
]


def test_event_rows_reads_lines_of_plain_events_as_the_standard_library() -> None:
    lines = [PLAIN_ROW, PLAIN_ROW.replace(":5,", ":0.25,"), PLAIN_ROW.replace("null", '"s"')]
    data = ("\n".join(lines) + "\n").encode()
    rows = codec.event_rows(data)
    if not codec.FAST_DECODE:
        assert rows is None
        return
    assert rows == [json.loads(line) for line in lines]
    assert [type(row["timestamp_offset_ms"]) for row in rows] == [int, float, int]
    assert [list(row) for row in rows] == [list(json.loads(line)) for line in lines]
    assert codec.event_rows(memoryview(data)[: data.index(b"\n") + 1]) == rows[:1]


@pytest.mark.parametrize("text", UNUSUAL_ROWS)
def test_event_rows_leaves_anything_unusual_to_the_general_path(text: str) -> None:
    data = (text + "\n").encode()
    assert codec.event_rows(data) is None
    assert codec.event_rows(b"\xff" + data) is None


def test_plain_event_rows_reads_an_array_of_plain_events_as_the_standard_library() -> None:
    rows = [
        PLAIN_ROW,
        PLAIN_ROW.replace(":5,", ":0.25,"),
        PLAIN_ROW[:-1] + ',"event_type":"T","metadata":{"caused_by":3}}',
        PLAIN_ROW[:-1] + ',"event_type":null,"metadata":null}',
    ]
    data = ("[" + ",".join(rows) + "]").encode()
    read = codec.plain_event_rows(data)
    if not codec.FAST_DECODE:
        assert read is None
        return
    assert read == json.loads(data)
    assert [type(row["timestamp_offset_ms"]) for row in read] == [int, float, int, int]
    assert [list(row) for row in read] == [list(row) for row in json.loads(data)]


OPTIONAL_OR_LINES = re.compile('"event_type"|"metadata"|\n')
"""Unusual in a line of the seed's four fields alone, usual in an array of events."""


@pytest.mark.parametrize(
    "text",
    [
        *(row for row in UNUSUAL_ROWS if not OPTIONAL_OR_LINES.search(row)),
        PLAIN_ROW[:-1] + ',"event_type":3}',
        PLAIN_ROW[:-1] + ',"metadata":[1]}',
        PLAIN_ROW[:-1] + ',"extra":1}',
    ],
)
def test_plain_event_rows_leaves_anything_unusual_to_the_general_path(text: str) -> None:
    assert codec.plain_event_rows(f"[{PLAIN_ROW},{text}]".encode()) is None
