"""YAML reads go through libyaml's C parser when PyYAML has it, with the same values and the
same errors as PyYAML's Python parser; the fallbacks are exercised here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_eventrecorder import formats
from pytest_eventrecorder.cassette import Cassette, CassetteError, CassetteHeader, RecordedEvent
from pytest_eventrecorder.formats import read_cassette, write_cassette

HEAD = "session_name: s\nstart_time: '2025-10-17T10:00:00Z'\nevents:\n"
TEXTS = [
    HEAD + "- timestamp_offset_ms: 1\n  event_name: A\n  event_data: {}\n  source: null\n",
    HEAD + "- {timestamp_offset_ms: 1, event_name: A, event_data: [1, 2], source: x}  # c\n",
    HEAD + "- timestamp_offset_ms: 1\n  event_name: !!str 5\n  event_data: 'a\tb'\n  source: x\n",
    HEAD + "- timestamp_offset_ms: 1\n  event_name: 😀\n  event_data: 2025-01-01\n  source: x\n",
]


def _events(path: Path) -> list[dict[str, object]]:
    return [event.to_dict() for event in read_cassette(path).events]


@pytest.mark.parametrize("text", TEXTS)
def test_c_and_python_parsers_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    fast = _events(path)
    monkeypatch.setattr(formats, "_C_SAFE_LOADER", None)  # PyYAML built without libyaml
    assert _events(path) == fast


def test_a_written_cassette_reads_back_through_the_c_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if formats._C_SAFE_LOADER is None:
        pytest.skip("PyYAML without libyaml")
    events = tuple(
        RecordedEvent(i * 0.5, "Tick", {"i": i, "s": "x: y", "e": [], "m": {}, "f": 1e-7}, "s")
        for i in range(50)
    )
    cassette = Cassette(CassetteHeader("y", "2025-10-17T10:00:00Z"), events)
    path = tmp_path / "c.yaml"
    write_cassette(path, cassette)
    used: list[object] = []
    real = yaml.load

    def spy(stream: str, Loader: object) -> object:
        used.append(Loader)
        return real(stream, Loader=Loader)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml, "load", spy)
    assert [e.to_dict() for e in read_cassette(path).events] == [e.to_dict() for e in events]
    assert used == [formats._C_SAFE_LOADER]
    assert issubclass(formats._C_SAFE_LOADER, yaml.CSafeLoader)  # libyaml's safe loader


def test_an_error_is_worded_by_the_python_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(HEAD + "- a: b: c\n", encoding="utf-8")
    with pytest.raises(CassetteError) as fast:
        read_cassette(path)
    monkeypatch.setattr(formats, "_C_SAFE_LOADER", None)
    with pytest.raises(CassetteError) as python:
        read_cassette(path)
    assert str(fast.value) == str(python.value)
    assert "line 4: not valid YAML: mapping values are not allowed here" in str(fast.value)
