"""A ``.json`` cassette read a slice of events at a time gives exactly what the whole
document parsed at once gives: the same events, errors and warnings. (Run again without
msgspec by ``test_core_codec_stdlib.py``.)"""

from __future__ import annotations

import json
import warnings
from itertools import repeat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import CassetteError, codec, formats, read_cassette

HEAD = '"session_name": "s", "start_time": "2025-10-17T10:00:00Z"'


def event(data: str = '{"p": 1.5}', extra: str = "", offset: str = "1") -> str:
    return (
        f'{{"timestamp_offset_ms": {offset}, "event_name": "E", "event_data": {data}, '
        f'"source": "src"{extra}}}'
    )


def document(*events: str, head: str = HEAD) -> str:
    return f'{{{head}, "events": [{", ".join(events)}]}}'


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


PLAIN = {
    "two events": document(event(), event(offset="2.5")),
    "no events": document(),
    "every header field": document(
        event(),
        head=HEAD + ', "version": 1, "duration_ms": 9, "total_events": 1, "metadata": {"k": 2}',
    ),
    "the seed's layout": json.dumps(json.loads(document(event(), event())), indent=2),
    "metadata and a type": document(
        event(extra=', "event_type": "m:T", "metadata": {"trace": [1, {"a": null}]}'),
        event(extra=', "event_type": null, "metadata": null'),
    ),
    "data of every kind": document(
        event("[1, 2.5, null]"),
        event('"text \\u00e9 \\ud83d\\ude00"'),
        event('{"big": 123456789012345678901234567890, "small": 1e-400, "tag": {"__bytes__": ""}}'),
        event("true"),
    ),
    "data nested 100 levels": document(event(nested(100))),
    "metadata nested 99 levels": document(event(extra=f', "metadata": {{"m": {nested(99)}}}')),
    "a byte order mark": "\ufeff" + document(event()),
    "commas inside events": document(
        event('{"a": {"b": 1}, "c": [{"timestamp_offset_ms": 2}, {"timestamp_offset_ms": 3}]}'),
        event('"}, {\\"timestamp_offset_ms\\": 1"'),
        event(),
    ),
    "events in the header's metadata": document(
        event(), head=HEAD + ', "metadata": {"events": [1], "x": {"events": []}}'
    ),
    "a later key wins": document(event()).replace('"events"', '"events": 5, "events"'),
    "fields in another order": document(
        '{"source": null, "event_data": [1], "event_type": "T", "event_name": "E", '
        '"timestamp_offset_ms": 0}',
        event(),
    ),
    "a field twice": document(event(extra=', "source": "again"'), event()),
    "an offset past 64 bits": document(event(), event(offset=str(2**64))),
    "outputs with their causes": document(
        event(), event(extra=', "metadata": {"caused_by": 0}'), event('{"q": 2}')
    ),
}
ODD = {
    "events twice": document(event()).replace('"events"', '"events": [1], "events"'),
    "events before the header": f'{{"events": [{event()}], {HEAD}}}',
    "an unknown header field": document(event(), head=HEAD + ', "future": 1'),
    "an event without a source": document(
        event(), '{"timestamp_offset_ms": 0, "event_name": "A", "event_data": null}'
    ),
    "an unknown event field": document(event(), event(extra=', "x": 2')),
    "an event that is not an object": document(event(), "3"),
    "a bad offset": document(event(), event(offset="-1")),
    "a bool offset": document(event(), event(offset="true")),
    "a giant offset": document(event(), event(offset="1" + "0" * 400)),
    "a type that is not text": document(event(), event(extra=', "event_type": 3')),
    "a name that is not text": document(event(), event().replace('"E"', "null")),
    "a missing session name": document(event(), head='"start_time": "2025-10-17T10:00:00Z"'),
    "header metadata nested too deep": document(
        event(), head=HEAD + f', "metadata": {{"m": {nested(101)}}}'
    ),
    "data nested 101 levels": document(event(), event(nested(101))),
    "metadata nested 101 levels": document(event(extra=f', "metadata": {{"m": {nested(100)}}}')),
    "a number beyond the float range": document(event(), event('{"p": 1e400}')),
    "one below it": document(event(), event('{"p": "a", "q": -1e400}')),
    "one in a list": document(event(), event("[1, 1e999]")),
    "one in metadata": document(event(), event(extra=', "metadata": {"m": 1e400}')),
    "one in flat metadata beside causes": document(
        event(extra=', "metadata": {"caused_by": 0}'),
        event(extra=', "metadata": {"caused_by": 1, "m": -1e400}'),
    ),
    "metadata that is a list": document(event(), event(extra=', "metadata": [1]')),
    "a NaN token": document(event(), event("NaN")),
    "events that are not a list": document().replace("[]", "{}"),
    "no events key": f"{{{HEAD}}}",
    "an array": "[]",
    "broken JSON": document(event())[:-5],
}


def outcome(path: Path) -> tuple[Any, list[str]]:
    """What reading ``path`` gives (the cassette or the error's message) and warns."""
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            result: Any = read_cassette(path)
        except CassetteError as exc:
            result = str(exc)
    return result, [str(w.message) for w in warned]


@pytest.mark.parametrize("typed", [True, False])
@pytest.mark.parametrize("size", [1, 150, 0])
@pytest.mark.parametrize("name", [*PLAIN, *ODD])
def test_a_json_read_in_pieces_reads_as_it_does_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, size: int, typed: bool
) -> None:
    path = tmp_path / "c.json"
    path.write_text({**PLAIN, **ODD}[name], encoding="utf-8")
    if size:  # cut at every comma between events, or about every other one
        monkeypatch.setattr(formats, "PIECE_BYTES", size)
    if not typed:  # pieces too big for typed rows (with msgspec) are checked in Python
        monkeypatch.setattr(formats, "TYPED_BYTES", 0)
    in_pieces = outcome(path)
    monkeypatch.setattr(formats, "_json_in_pieces", lambda data: None)
    assert in_pieces == outcome(path)


@pytest.mark.parametrize("name", PLAIN)
def test_a_plain_json_is_read_in_pieces(name: str) -> None:
    assert formats._json_in_pieces(PLAIN[name].encode()) is not None


def test_flat_data_and_metadata_are_checked_without_the_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outputs carrying their cause (``{"caused_by": 3}``) pass the check of flat values
    as their data does, not the walk of every event (a third of a small file's read)."""

    def walked(events: object) -> bool:
        raise AssertionError("walked")

    monkeypatch.setattr(formats, "_data_problems", walked)
    text = PLAIN["outputs with their causes"].encode()
    assert formats._json_in_pieces(text) is not None


@pytest.mark.skipif(not codec.FAST_DECODE, reason="typed rows need msgspec")
def test_a_small_piece_of_plain_events_is_typed_by_msgspec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def checked(rows: object, shared: object) -> None:
        raise AssertionError("checked in Python")

    monkeypatch.setattr(formats, "adopt_plain_events", checked)
    assert formats._json_in_pieces(PLAIN["outputs with their causes"].encode()) is not None


def test_ints_stay_ints_and_floats_floats(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    text = document(event('{"i": 1, "f": 1.0, "big": 123456789012345678901234567890}'))
    path.write_text(text.replace('"timestamp_offset_ms": 1,', '"timestamp_offset_ms": 2,'))
    only = read_cassette(path).events[0]
    assert type(only.timestamp_offset_ms) is int
    assert [type(v) for v in only.event_data.values()] == [int, float, int]
    assert only.event_data["big"] == 123456789012345678901234567890


@pytest.mark.parametrize("name", ODD)
def test_any_other_json_is_read_whole(name: str) -> None:
    """Whatever the whole read refuses, warns about or reads differently is left to it."""
    assert formats._json_in_pieces(ODD[name].encode()) is None


def test_a_comma_inside_an_event_is_passed_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "PIECE_BYTES", 1)
    read = formats._json_in_pieces(PLAIN["commas inside events"].encode())
    assert read is not None
    assert [e.event_data for e in read[1]][1:] == ['}, {"timestamp_offset_ms": 1', {"p": 1.5}]


def test_events_with_too_many_commas_inside_are_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each comma inside an event costs a parse of the piece up to it: after a few, the
    piece is left to the whole read."""
    monkeypatch.setattr(formats, "PIECE_BYTES", 1)
    inner = ", ".join(['{"timestamp_offset_ms": 1}'] * 5)
    assert formats._json_in_pieces(document(event(f"[{inner}]"), event()).encode()) is None


def test_names_and_sources_are_shared_across_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    path.write_text(document(event(), event(), event()), encoding="utf-8")
    monkeypatch.setattr(formats, "PIECE_BYTES", 1)
    first, *_, last = read_cassette(path).events
    assert first.event_name is last.event_name
    assert first.source is last.source


def test_events_with_nowhere_to_cut_are_read_whole_past_a_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a comma before an event starting with its offset, the rest of the events
    is one piece: a copy of their text, which the whole read does not make."""
    later = '{"event_name": "E", "event_data": 1, "source": null, "timestamp_offset_ms": 0}'
    text = document(later, later).encode()
    assert formats._json_in_pieces(text) is not None
    monkeypatch.setattr(formats, "LAST_PIECE_BYTES", len(text) // 2)
    assert formats._json_in_pieces(text) is None


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["timestamp_offset_ms", "}, {", "a"]), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(values, min_size=1, max_size=4), indented=st.booleans())
def test_any_data_reads_the_same_cut_at_every_comma(
    tmp_path_factory: pytest.TempPathFactory, data: list[object], indented: bool
) -> None:
    """Data holding lists of objects with an offset, and texts with braces and commas."""
    path = tmp_path_factory.mktemp("cut") / "c.json"
    plain = {"timestamp_offset_ms": 1, "event_name": "E", "event_data": None, "source": None}
    rows = [plain, *({**plain, "event_data": value} for value in data), plain]
    doc = {"session_name": "s", "start_time": "2025-10-17T10:00:00Z", "events": rows}
    path.write_text(json.dumps(doc, indent=2 if indented else None))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "_json_in_pieces", lambda data: None)
        whole = outcome(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(formats, "PIECE_BYTES", 1)
        assert outcome(path) == whole


@pytest.mark.parametrize(
    ("offsets", "duration"), [([], 9), (["1", "12.5", "3"], 12.5), (["2", "20"], 20)]
)
def test_the_duration_is_the_header_s_or_the_last_offset(
    tmp_path: Path, offsets: list[str], duration: float
) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        document(*map(event, repeat("1"), repeat(""), offsets), head=HEAD + ', "duration_ms": 9')
    )
    header = read_cassette(path).header
    assert header.duration_ms == duration
    assert type(header.duration_ms) is type(duration)
    assert header.total_events == len(offsets)


@pytest.mark.skipif(not codec.FAST_DECODE, reason="typed rows need msgspec")
def test_a_document_of_one_piece_keeps_its_names_unshared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sharing saves memory on big documents; on one small typed piece (at most 512 KB)
    it only cost time (0.1 ms of a 1,000-event read). Equal names stay equal."""
    shared: list[object] = []
    monkeypatch.setattr(formats, "share_names", lambda rows, into: shared.append(rows))
    split = formats._json_in_pieces(document(event(), event()).encode())
    assert split is not None
    assert not shared
    assert [e.event_name for e in split[1]] == ["E", "E"]
