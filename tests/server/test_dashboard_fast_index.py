"""The index of a ``.jsonl`` is the same whether msgspec (the ``[fast]`` extra) reads its
lines or the standard library does: the same columns, and the same errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder.server import fastrows
from pytest_eventrecorder.server.errors import BrokenRecording
from pytest_eventrecorder.server.index import BATCH_LINES, build_index

HEADER = b'{"version":1,"session_name":"s","start_time":"2025-01-01T00:00:00Z"}\n'


def line(offset: Any, name: str = "A", data: Any = None, **extra: Any) -> bytes:
    event = {"timestamp_offset_ms": offset, "event_name": name, "event_data": data, **extra}
    event.setdefault("source", "src")
    return json.dumps(event, ensure_ascii=False).encode() + b"\n"


def odd_lines() -> bytes:
    """Lines of every shape the readers treat differently, in batches that msgspec reads
    (the second) and that it leaves to the standard library (the third)."""
    rows = [
        line(i * 0.5, f"N{i % 3}", {"k": i, "nested": {"x": [1, {"y": i}]}}) for i in range(4000)
    ]
    rows[1500] = line(750, "Int offset", {"é": '\u00e9 " \\\\ \\u00e9'}, source=None)
    rows[1600] = line(800, "Extras", [1, 2], event_type="t", metadata={"m": 1})
    rows[1700] = line(1, "Earlier", 3.5)  # out of order
    rows[2300] = b'{"timestamp_offset_ms":1150,"event_name":"NoSource","event_data":1}\n'
    rows[2400] = line(1200, "Unknown", "x", extra_field=1)
    rows[2500] = (
        b'{"timestamp_offset_ms":1250,"event_name":"Lone","event_data":"\\ud800","source":"s"}\n'
    )
    return HEADER + b"".join(rows)


def index_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(fastrows, "_DECODE", None)
            try:
                index = build_index(path.name, path, (0, 0, 0))
            except BrokenRecording as exc:
                seen.append(str(exc))
                continue
            cols = index.columns
            seen.append(
                (
                    list(cols.offsets),
                    list(cols.name_ids),
                    list(cols.source_ids),
                    cols.names,
                    cols.sources,
                    sorted(cols.paths),
                    cols.ordered,
                    [list(p) for p in cols.by_name],
                    index.counts("source"),
                    index.header,
                    [e.to_dict() for e in index.events_at(range(index.count))],
                )
            )
    return seen


def test_fast_and_standard_reading_index_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(odd_lines().splitlines()) > 3 * BATCH_LINES
    path = tmp_path / "odd.jsonl"
    path.write_bytes(odd_lines())
    fast, standard = index_both_ways(path, monkeypatch)
    assert fast == standard


@pytest.mark.parametrize(
    "bad",
    [
        b'{"timestamp_offset_ms":1,"event_name":"A","event_data":1e400,"source":null}\n',
        b'{"timestamp_offset_ms":1,"event_name":"A","event_data":NaN,"source":null}\n',
        b'{"timestamp_offset_ms":1,"event_name":"A","event_data":"\xff","source":null}\n',
        b'{"timestamp_offset_ms":-1,"event_name":"A","event_data":1,"source":null}\n',
        b'{"timestamp_offset_ms":1e400,"event_name":"A","event_data":1,"source":null}\n',
        b'{"timestamp_offset_ms":1,"event_name":5,"event_data":1,"source":null}\n',
        b'{"timestamp_offset_ms":1,"event_name":"A","event_data":' + b"9" * 4301 + b"}\n",
    ],
)
def test_fast_and_standard_reading_refuse_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bytes
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(HEADER + line(0) * 1200 + bad + line(2) * 5)  # in a batch msgspec reads
    fast, standard = index_both_ways(path, monkeypatch)
    assert fast == standard
