"""A stream file belongs to one recorder: a second one on the same path (in another process
or this one) gets a clear error at start_recording, and nothing replaces the owned file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_eventrecorder import EventRecorder, iter_events, read_cassette
from pytest_eventrecorder.formats import StreamInUseError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

# A recorder in its own process. "a": stream COUNT events (keep_events=False) a little apart,
# halfway waiting for the file named by an optional 4th argument to exist, then print what
# stop_recording() handed back. "b": try to stream to the same file.
CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pytest_eventrecorder import EventRecorder

    role, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

    class Bus:
        def publish(self, event_name, event, source=None):
            pass

    bus = Bus()
    recorder = EventRecorder(role, ".", stream_to=path, keep_events=False)
    try:
        recorder.start_recording(bus)
    except OSError as exc:
        print(json.dumps({"refused": str(exc), "type": type(exc).__name__}), flush=True)
        sys.exit(0)
    print("started", flush=True)
    for i in range(count):
        bus.publish("Tick", {"i": i}, role)
        time.sleep(0.005)
        if i == count // 2:  # still streaming, however slowly the other process starts
            deadline = time.monotonic() + 60
            while len(sys.argv) > 4 and not os.path.exists(sys.argv[4]):
                if time.monotonic() > deadline:
                    sys.exit("the other recorder never finished")
                time.sleep(0.01)
    events = recorder.stop_recording()
    print(json.dumps({"sources": sorted({e.source for e in events}), "count": len(events)}))
    """
)


def spawn(role: str, path: Path, count: int, *wait_for: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, role, str(path), str(count), *map(str, wait_for)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def last_json(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_a_second_process_cannot_take_over_a_streamed_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    b_done = tmp_path / "b-done"
    a = spawn("A", path, 200, b_done)  # A holds its stream open until B has tried
    assert a.stdout is not None
    assert a.stdout.readline().strip() == "started"
    time.sleep(0.4)
    b = last_json(spawn("B", path, 200))
    b_done.touch()
    assert b["type"] == "StreamInUseError"
    assert str(path) in str(b["refused"])
    assert "another recorder" in str(b["refused"])
    assert last_json(a) == {"sources": ["A"], "count": 200}
    assert [e.event_data["i"] for e in iter_events(path)] == list(range(200))


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_second_recorder_in_the_same_process_is_refused_and_changes_nothing(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"shared{suffix}"
    first = EventRecorder("first", tmp_path, stream_to=path, keep_events=False)
    first.start_recording()
    first.record("Tick", {"i": 0})
    before = path.read_bytes()
    second = EventRecorder("second", tmp_path, stream_to=path)
    with pytest.raises(StreamInUseError, match="another recorder is streaming") as caught:
        second.start_recording()
    assert caught.value.filename == str(path)
    assert not second.is_recording
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no draft left behind
    first.record("Tick", {"i": 1})
    assert [e.event_data for e in first.stop_recording()] == [{"i": 0}, {"i": 1}]


def test_saving_over_a_streamed_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    streaming = EventRecorder("streaming", tmp_path, stream_to=path)
    streaming.start_recording()
    streaming.record("Tick", {"i": 0})
    other = EventRecorder("other", tmp_path)
    other.start_recording()
    other.record("Other", {})
    with pytest.raises(StreamInUseError):
        other.save(path)
    streaming.stop_recording()
    assert read_cassette(path).header.session_name == "streaming"


def test_the_file_is_free_again_once_its_recorder_stops(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    for name in ("first", "second"):
        with EventRecorder(name, tmp_path, stream_to=path) as recorder:
            recorder.start_recording()
            recorder.record("Tick", {"by": name})
    cassette = read_cassette(path)
    assert cassette.header.session_name == "second"
    assert [e.event_data for e in cassette.events] == [{"by": "second"}]
