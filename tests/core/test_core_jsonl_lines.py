"""A ``.jsonl`` holds one event per line: a file whose lines say otherwise is refused, naming
the line, whichever decoder reads it (this module also runs with the ``[fast]`` extra
blocked, from test_core_codec_stdlib.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import CassetteError, EventReplayer, read_cassette

HEADER = (
    b'{"version":1,"session_name":"s","start_time":"2024-01-01T00:00:00+00:00",'
    b'"duration_ms":0,"total_events":3}\n'
)


EVENT = b'{"timestamp_offset_ms":%d,"event_name":"Out","event_data":{"n":%d},"source":null}'


def event(n: int) -> bytes:
    return EVENT % (n, n)


SPLIT = b'{"timestamp_offset_ms":3,"event_name":"Out",\n"event_data":{"n":3},"source":null}\n'

# A lost newline puts two events on line 2; the line count is made up by a blank line or an
# event split over two lines, so counting values per piece cannot tell.
BROKEN = {
    "two-then-blank": event(1) + event(2) + b"\n\n",
    "space-then-blank": event(1) + b" " + event(2) + b"\n" + event(3) + b"\n\n",
    "cr-then-blank": event(1) + b"\r" + event(2) + b"\n\n" + event(3) + b"\n",
    "two-then-split": event(1) + event(2) + b"\n" + SPLIT,
}


def write(tmp_path: Path, body: bytes, suffix: str) -> Path:
    path = tmp_path / f"c{suffix}"
    data = HEADER + body
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize("body", BROKEN.values(), ids=BROKEN.keys())
def test_two_events_on_one_line_are_refused_naming_the_line(
    tmp_path: Path, body: bytes, suffix: str
) -> None:
    path = write(tmp_path, body, suffix)
    with pytest.raises(CassetteError, match=r"line 2: not valid JSON: Extra data"):
        read_cassette(path)
    with pytest.raises(CassetteError, match=r"line 2: not valid JSON: Extra data"):
        EventReplayer(path).replay(ServiceBus(), float("inf"))


def test_a_byte_that_is_not_utf8_is_named_by_its_place_in_its_line(tmp_path: Path) -> None:
    pad = b'{"timestamp_offset_ms":%d,"event_name":"F","event_data":"' + b"x" * 400 + b'"}\n'
    filler = b"".join(pad % n for n in range(50))
    bad = b'{"timestamp_offset_ms":1,"event_name":"B","event\xff_data":1,"source":null}\n'
    path = write(tmp_path, filler + bad, ".jsonl")
    place = bad.index(b"\xff")  # the chunk's 23,038th byte, the piece's 6,948th
    message = rf"line 52: not valid UTF-8 \(byte {place} of the line\)"
    with pytest.raises(CassetteError, match=message):
        read_cassette(path)
