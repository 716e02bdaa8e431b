"""Which parsed rows the readers adopt as they are (``cassette.adopt_plain_events``): the
quick check of a slice of rows takes exactly those the full check takes unchanged, and
leaves every other one to it. (Run again without msgspec by ``test_core_codec_stdlib.py``.)"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder import CassetteError, formats, read_cassette
from pytest_eventrecorder.cassette import RecordedEvent, adopt_events, adopt_plain_events


def row(**changed: Any) -> dict[str, Any]:
    fields = {"timestamp_offset_ms": 1.5, "event_name": "E", "event_data": {}, "source": "s"}
    fields.update(changed)
    return fields


def without(key: str) -> dict[str, Any]:
    fields = row()
    del fields[key]
    return fields


PLAIN = {
    "the seed's four fields": row(),
    "an int offset": row(timestamp_offset_ms=3),
    "offset zero": row(timestamp_offset_ms=0),
    "the largest float": row(timestamp_offset_ms=sys.float_info.max),
    "no source": row(source=None),
    "a type": row(event_type="m:T"),
    "a null type": row(event_type=None),
    "metadata": row(metadata={"caused_by": 3}),
    "null metadata": row(metadata=None),
    "both": row(event_type="T", metadata={}),
}
NOT_PLAIN = {
    "not an object": [1],
    "no offset": without("timestamp_offset_ms"),
    "no name": without("event_name"),
    "no data": without("event_data"),
    "no source key": without("source"),
    "a bool offset": row(timestamp_offset_ms=True),
    "a text offset": row(timestamp_offset_ms="1"),
    "a null offset": row(timestamp_offset_ms=None),
    "a negative offset": row(timestamp_offset_ms=-1),
    "a NaN offset": row(timestamp_offset_ms=float("nan")),
    "an infinite offset": row(timestamp_offset_ms=float("inf")),
    "a giant int offset": row(timestamp_offset_ms=10**400),
    "a name that is not text": row(event_name=1),
    "a source that is not text": row(source=2),
    "an unknown field": row(x=1),
    "an unknown field instead of a known one": {**without("source"), "x": None},
    "a type that is not text": row(event_type=1),
    "metadata that is not an object": row(metadata=[1]),
}


@pytest.mark.parametrize("name", PLAIN)
def test_a_plain_row_is_adopted_as_it_is(name: str) -> None:
    rows = [row(), PLAIN[name], row(timestamp_offset_ms=2)]
    events = adopt_plain_events([dict(r) for r in rows])
    assert events is not None
    assert [e.__dict__ for e in events] == rows


@pytest.mark.parametrize("position", [0, 1, 2])
@pytest.mark.parametrize("name", NOT_PLAIN)
def test_any_other_row_is_left_to_the_full_check(name: str, position: int) -> None:
    rows = [row(), row(), row()]
    rows[position] = NOT_PLAIN[name]
    assert adopt_plain_events(rows) is None


def test_the_full_check_still_names_the_row() -> None:
    with pytest.raises(ValueError, match="event 4, field 'timestamp_offset_ms'"):
        adopt_events([row(), row(timestamp_offset_ms=-1)], 3)


def test_equal_names_and_sources_become_one_string() -> None:
    rows = [row(event_name="".join("Ab"), source="".join("sr")) for _ in range(3)]
    rows.append(row(event_name="Ab", source=None))
    shared: dict[Any, Any] = {}
    events = adopt_plain_events(rows, shared)
    assert events is not None
    assert len({id(e.event_name) for e in events}) == 1
    assert len({id(e.source) for e in events[:3]}) == 1
    assert events[3].source is None
    assert all(type(e) is RecordedEvent for e in events)


def test_no_rows_are_plain() -> None:
    assert adopt_plain_events([]) == []


HEADER_LINE = '{"version": 1, "session_name": "s", "start_time": "2025-10-17T10:00:00Z"}'


def jsonl(tmp_path: Path, *metadata: str) -> Path:
    path = tmp_path / "c.jsonl"
    lines = [HEADER_LINE]
    for number, meta in enumerate(metadata):
        lines.append(
            f'{{"timestamp_offset_ms": {number}, "event_name": "E", "event_data": {{"p": 1}}, '
            f'"source": "s", "metadata": {meta}}}'
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jsonl_flat_metadata_is_checked_without_the_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs carrying their cause pass the C loops' check, as in a ``.json``."""

    def walked(event: object, index: object = None) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(formats, "check_data", walked)
    path = jsonl(tmp_path, '{"caused_by": 0}', '{"caused_by": 1}')
    assert [e.metadata for e in read_cassette(path).events] == [{"caused_by": 0}, {"caused_by": 1}]


@pytest.mark.parametrize("bad", ["1e400", "-1e400", "[[1e999]]", "[" * 101 + "]" * 101])
def test_jsonl_bad_metadata_is_named_by_line_event_and_field(tmp_path: Path, bad: str) -> None:
    path = jsonl(tmp_path, '{"caused_by": 0}', f'{{"caused_by": 1, "m": {bad}}}')
    with pytest.raises(CassetteError, match=r"c\.jsonl, line 3, event 1, field 'metadata': "):
        read_cassette(path)
