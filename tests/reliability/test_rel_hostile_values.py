"""Values no recorder writes but a hand-made or hostile file may hold: a 400-digit integer as a
number field, a float literal past the float range (read as infinity), data nested hundreds of
levels deep. Every reader refuses them with a CassetteError naming the file, the event and
the field, at read time, before anything is replayed, shown or compared. (Data nested deeper
than the parser itself can read is refused as "nested too deeply to read", naming the file.)

A ``.jsonl`` replay checks nesting only where it walks the data (blocks with tagged values):
checking every event would cost it a third of its speed; see iter_event_blocks. Numbers past
the float range it refuses everywhere (test_rel_nonfinite_replay.py)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_eventrecorder import (
    CassetteError,
    EventReplayer,
    iter_events,
    read_cassette,
    read_header,
)

START = "2025-01-02T03:04:05.678Z"
LONG_INT = "1" + "0" * 400
SUFFIXES = (".json", ".yaml", ".jsonl", ".json.gz", ".yaml.gz", ".jsonl.gz")


def nest(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def event(data: str = "1", offset: str = "0") -> str:
    return f'{{"timestamp_offset_ms":{offset},"event_name":"E","event_data":{data},"source":null}}'


def cassette_text(suffix: str, events: list[str], duration: str = "0") -> str:
    """JSON text; YAML is a superset of it (flow style), so the same text serves both."""
    header = f'"session_name":"s","start_time":"{START}","duration_ms":{duration}'
    if ".jsonl" in suffix:
        return "\n".join([f"{{{header}}}", *events, ""])
    return f'{{{header},"events":[{",".join(events)}]}}\n'


def write(folder: Path, name: str, suffix: str, text: str) -> Path:
    path = folder / f"{name}{suffix}"
    data = text.encode()
    path.write_bytes(gzip.compress(data, mtime=0) if suffix.endswith(".gz") else data)
    return path


class Bus:
    def __init__(self) -> None:
        self.published: list[object] = []

    def publish(self, event_name: str, event: object, source: str | None = None) -> None:
        self.published.append(event)


# name: (events, duration, field named, event index named); field None: past what the
# parser can read, so only "nested too deeply to read" (with the file) can be said.
HOSTILE: dict[str, tuple[list[str], str, str | None, int | None]] = {
    "long-int-duration": ([event()], LONG_INT, "duration_ms", None),
    "long-int-offset": ([event(), event(offset=LONG_INT)], "0", "timestamp_offset_ms", 1),
    "huge-float-data": ([event(), event(data='{"p":[1.5e400]}')], "0", "event_data", 1),
    "huge-float-offset": ([event(offset="2e400")], "0", "timestamp_offset_ms", 0),
    "deep-500": ([event(), event(), event(data=nest(500))], "0", "event_data", 2),
    "deep-950": ([event(data=nest(950))], "0", None, 0),
}


def readers(path: Path, field: str | None) -> list[object]:
    def replay() -> None:
        EventReplayer(path).replay(Bus())

    checked = [read_cassette, lambda p: list(iter_events(p))]
    in_data = field in ("event_data", None)
    return checked if in_data and ".jsonl" in path.name else [*checked, lambda _p: replay()]


def expect_located(
    error: CassetteError, path: Path, field: str | None, index: int | None
) -> None:
    message = str(error)
    assert message.startswith(str(path)), message
    if field is None:  # the parser may or may not get that deep, depending on the stack
        assert "nested too deeply to read" in message or "nested deeper" in message, message
        return
    assert f"field {field!r}" in message, message
    if index is not None:
        assert f"event {index}" in message, message


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_values_are_cassette_errors_naming_file_event_and_field(
    tmp_path: Path, suffix: str, kind: str
) -> None:
    events, duration, field, index = HOSTILE[kind]
    if suffix.startswith(".yaml") and "float" in kind:
        pytest.skip("YAML reads 1.5e400 as text (its floats need a dot); covered below")
    if suffix.startswith(".yaml") and kind == "deep-500":
        field = None  # PyYAML's own reader stops short of 500 levels
    path = write(tmp_path, kind, suffix, cassette_text(suffix, events, duration))
    for reader in readers(path, field):
        with pytest.raises(CassetteError) as caught:
            reader(path)  # type: ignore[operator]
        expect_located(caught.value, path, field, index)
    if field == "duration_ms":
        with pytest.raises(CassetteError, match="duration_ms"):
            read_header(path)


@pytest.mark.parametrize("suffix", [".yaml", ".yaml.gz"])
def test_a_yaml_float_past_the_float_range_is_refused(tmp_path: Path, suffix: str) -> None:
    text = cassette_text(suffix, [event(data="[1.0e+400]")])
    path = write(tmp_path, "huge", suffix, text)
    with pytest.raises(CassetteError, match="finite") as caught:
        read_cassette(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_jsonl_replay_refuses_deep_data_it_would_restore(tmp_path: Path, suffix: str) -> None:
    """Tagged values are restored by walking the data: such a block is checked first."""
    tagged = '{"__bytes__":"AA==","x":' + nest(500) + "}"
    path = write(tmp_path, "tagged", suffix, cassette_text(suffix, [event(), event(tagged)]))
    with pytest.raises(CassetteError) as caught:
        EventReplayer(path).replay(Bus())
    expect_located(caught.value, path, "event_data", 1)
    assert "line 3" in str(caught.value)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_data_nested_within_the_limit_still_reads_and_replays(tmp_path: Path, suffix: str) -> None:
    """A recorder cuts data at 64 levels: anything it writes reads back."""
    path = write(tmp_path, "ok", suffix, cassette_text(suffix, [event(data=nest(90))]))
    bus = Bus()
    EventReplayer(path).replay(bus)
    assert json.dumps(bus.published[0]) == nest(90)


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_eventrecorder", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("kind", ["long-int-duration", "huge-float-data", "deep-500"])
def test_the_real_cli_names_the_file_and_field(tmp_path: Path, kind: str) -> None:
    events, duration, field, _ = HOSTILE[kind]
    assert field is not None
    for suffix in (".json", ".jsonl"):
        path = write(tmp_path, kind, suffix, cassette_text(suffix, events, duration))
        for command in ("info", "timeline", "validate"):
            done = run_cli(command, path)
            output = done.stdout + done.stderr
            assert done.returncode != 0, (command, output)
            assert str(path) in output, (command, output)
            assert field in output, (command, output)
            assert "Traceback" not in output, (command, output)
            assert "unexpected" not in output, (command, output)


def test_the_plugin_fails_with_the_cassette_error(pytester: pytest.Pytester) -> None:
    cassette = pytester.path / "cassettes" / "test_deep" / "test_replays.json"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(cassette_text(".json", [event(data=nest(500))]))
    pytester.makepyfile(
        test_deep=textwrap.dedent(
            """
            import pytest

            class Bus:
                def publish(self, event_name, event, source=None):
                    pass

            @pytest.fixture
            def service_bus():
                return Bus()

            @pytest.mark.event_cassette(record_mode="none")
            def test_replays(service_bus, event_cassette):
                event_cassette.play()
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    output = result.stdout.str()
    assert result.ret != 0
    assert "RecursionError" not in output
    assert f"{cassette}, event 0, field 'event_data'" in output
