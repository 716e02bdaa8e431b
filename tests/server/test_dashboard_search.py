"""Free-text search finds exactly what it found by decoding every event, whatever the file's
JSON looks like (escapes, non-ASCII text that case-folds to ASCII, spaces, number forms),
now that the raw lines of a ``.jsonl`` are searched first."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_eventrecorder.server.query import EventQuery
from pytest_eventrecorder.server.store import RecordingStore

HEADER = b'{"version":1,"session_name":"s","start_time":"2025-01-01T00:00:00Z"}\n'
TRICKY = [
    b'{"timestamp_offset_ms":1,"event_name":"Plain","event_data":{"sym":"BTC/USDT"},'
    b'"source":"Bot"}',
    b'{"timestamp_offset_ms":2,"event_name":"Esc",'
    b'"event_data":{"x":"caf\\u00e9 \\"q\\" \\u0061b"},"source":null}',
    b'{"timestamp_offset_ms":3,"event_name":"Fold",'
    b'"event_data":{"x":"Stra\xc3\x9fe \xe2\x84\xaaelvin \xc5\xbfun"},"source":null}',
    b'{ "timestamp_offset_ms" : 4 , "event_name" : "Spaced" ,'
    b' "event_data" : { "a" : [ 1 , true ] } , "source" : "S" }',
    b'{"timestamp_offset_ms":5,"event_name":"Num",'
    b'"event_data":{"n":1e5,"m":1.50,"k":-0,"z":1E-7},"source":null}',
    b'{"timestamp_offset_ms":6,"event_name":"Hidden","event_data":1,"source":null,'
    b'"event_type":"needle","metadata":{"k":"needle"}}',
    b'{"timestamp_offset_ms":7,"event_name":"Slash","event_data":"a\\/b \\t tab",'
    b'"source":"W\\u00c9ST"}',
    b'{"timestamp_offset_ms":8,"event_name":"Upper","event_data":{"KEY":"VALUE","n":null},'
    b'"source":"ORDERS"}',
]
NEEDLES = [
    "btc",
    "BTC/usdt",
    "a",
    "ab",
    "ss",
    "strasse",
    "k",
    "kelvin",
    "s",
    "sun",
    "e",
    "E",
    "é",
    "É",
    "caf",
    "q",
    '"q"',
    "\\",
    "/",
    "a/b",
    "tab",
    "\t",
    " ",
    ": ",
    ", ",
    "true",
    "null",
    "1e5",
    "100000",
    "1.5",
    "0",
    "e-07",
    "needle",
    "event",
    "name",
    "timestamp",
    "key",
    "value",
    "orders",
    "west",
    "wést",
    "spaced",
    "[1, true]",
    "sym",
    "x",
    "plain",
    "num",
    "zzz",
    "_",
    "<",
    "Ünï",
]


@pytest.fixture(params=[1, 1500], ids=["few", "many"])
def recording(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The tricky lines, alone or among many plain ones (blocks of both kinds)."""
    plain = b'{"timestamp_offset_ms":9,"event_name":"Filler","event_data":{"i":1},"source":"F"}'
    lines = TRICKY + [plain] * (request.param - 1) + TRICKY
    (tmp_path / "r.jsonl").write_bytes(HEADER + b"\n".join(lines) + b"\n")
    return tmp_path


@pytest.mark.parametrize("needle", NEEDLES)
def test_search_finds_what_decoding_every_event_finds(recording: Path, needle: str) -> None:
    index = RecordingStore(recording).open("r.jsonl")
    query = EventQuery(text=needle)
    everything = list(index.events_at(range(index.count)))
    expected = [i for i, event in enumerate(everything) if query.accepts(event)]
    assert list(index.matching(query)) == expected
    by_name = EventQuery(text=needle, event_names=("Fold", "Esc", "Upper", "Filler"))
    expected = [i for i, e in enumerate(everything) if e.event_name in by_name.event_names]
    expected = [i for i in expected if by_name.accepts(everything[i])]
    assert list(index.matching(by_name)) == expected
