"""Nothing acknowledged is lost: SIGKILL while streaming and while saving, a full disk and a
read-only folder leave complete files and keep every recorded event."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from pytest_eventrecorder import (
    Cassette,
    EventRecorder,
    EventRecorderConfig,
    RecordedEvent,
    iter_events,
    read_cassette,
    read_header,
    write_cassette,
)
from pytest_eventrecorder import formats as formats_module
from pytest_eventrecorder.server import create_app

CHILD = Path(__file__).with_name("rel_child.py")
START = "2025-01-02T03:04:05.678Z"


class Child:
    """A recording process whose stdout lines say which steps have returned.

    A thread drains its output all along, so it never blocks on a full pipe: the kill lands
    wherever the child happens to be (mid-write included), not parked in ``print``."""

    def __init__(self, *args: object) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())

    def wait_for(self, prefix: str, count: int = 1, timeout: float = 60.0) -> None:
        """Wait until ``count`` lines start with ``prefix``."""
        deadline = time.monotonic() + timeout
        while sum(line.startswith(prefix) for line in self.lines) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"no {count} x {prefix!r} from the child: {stderr}")
            time.sleep(0.001)

    def kill(self) -> list[str]:
        """SIGKILL, then every line it printed before dying."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL
        self._drain.join(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.lines


def read_leniently(path: Path) -> list[RecordedEvent]:
    """The events of a crashed stream (a cut-off last line is a warning, by design)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(iter_events(path))


# --------------------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_while_streaming_keeps_every_acknowledged_event(
    tmp_path: Path, suffix: str, seed: int
) -> None:
    rng = random.Random(seed)
    path = write_cassette(tmp_path / f"live{suffix}", PREVIOUS)  # a stream replaces it
    child = Child("stream", path, seed)
    child.wait_for("ack", rng.randrange(1, 400))
    time.sleep(rng.random() / 200)  # land anywhere, mid-line included
    acked = [int(line.split()[1]) for line in child.kill() if line.startswith("ack")]

    events = read_leniently(path)
    assert len(events) >= len(acked), f"{len(acked)} acknowledged, {len(events)} read back"
    assert [e.event_data["i"] for e in events] == list(range(len(events)))
    assert {(e.event_name, e.source) for e in events} == {("Tick", "feed")}


@pytest.mark.parametrize("seed", range(6))
def test_sigkill_while_a_stream_starts_leaves_the_previous_file_or_the_new_one(
    tmp_path: Path, seed: int
) -> None:
    """Killed around start_recording(): the path holds the previous cassette or a readable
    stream, never an empty or half-written file."""
    path = write_cassette(tmp_path / "live.jsonl", PREVIOUS)
    child = Child("stream", path, seed)
    time.sleep(random.Random(seed).uniform(0.12, 0.3))  # around its first publish (~0.2 s)
    acked = [line for line in child.kill() if line.startswith("ack")]
    if read_header(path).session_name == "previous":
        assert not acked
        assert read_cassette(path) == PREVIOUS
        return
    events = read_leniently(path)
    assert len(events) >= len(acked)
    assert [e.event_data["i"] for e in events] == list(range(len(events)))
    # A kill after the stream's header but before its first event leaves a readable, empty one.
    assert {(e.event_name, e.source) for e in events} <= {("Tick", "feed")}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_while_finalizing_a_stream_keeps_every_event(
    tmp_path: Path, suffix: str, seed: int
) -> None:
    """``stop_recording`` rewrites the stream with its final header: a kill meanwhile leaves
    the streamed file or the rewritten one, each holding every event."""
    count = 20_000
    path = tmp_path / f"live{suffix}"
    child = Child("finalize", path, count)
    child.wait_for("stopping")
    time.sleep(random.Random(seed).random() / 5)
    child.kill()
    events = read_leniently(path)
    assert [e.event_data["i"] for e in events] == list(range(count))


PREVIOUS = Cassette.build(
    "previous", [RecordedEvent(0.0, "Old", {"n": n}) for n in range(3)], start_time=START
)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl.gz"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_while_saving_leaves_the_previous_file_or_a_complete_new_one(
    tmp_path: Path, suffix: str, seed: int
) -> None:
    rng = random.Random(seed)
    # Each save takes ~70 ms (PyYAML is slower: fewer events); the kill lands before, during
    # or after the first saves.
    count, delay = (300, 0.4) if suffix == ".yaml" else (3000, 0.2)
    target = write_cassette(tmp_path / f"session{suffix}", PREVIOUS)
    child = Child("save", target, count)
    child.wait_for("saving", rng.randrange(1, 3))
    time.sleep(rng.uniform(0, delay))
    lines = child.kill()

    cassette = read_cassette(target)  # complete: any partial file would fail to parse
    saved = [int(line.split()[1]) for line in lines if line.startswith("saved")]
    begun = [int(line.split()[1]) for line in lines if line.startswith("saving")]
    if cassette.session_name == "previous":
        assert cassette == PREVIOUS
        assert not saved, "a save returned, yet the file is the previous one"
        return
    generation = cassette.events[-1].event_data["generation"]
    assert generation in (max(saved, default=0), max(begun))
    assert len(cassette.events) == count + generation
    assert [e.event_data.get("i") for e in cassette.events[:count]] == list(range(count))
    # A kill mid-save may leave a hidden temporary file, never anything under a real name.
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")} == {target.name}


# --------------------------------------------------------------------------- a full disk


def enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingFile:
    """A file object that takes ``room`` bytes, then fails like a full disk."""

    def __init__(self, real: IO[bytes], room: int) -> None:
        self._real = real
        self._room = room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._real.write(bytes(data[: self._room]))
            self._room = 0
            raise enospc()
        self._room -= len(data)
        return self._real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> FillingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch, full: Path, room: int) -> None:
    """Files opened under ``full`` (the cassette writers' ``os.fdopen`` and ``open``) take
    ``room`` bytes each, then raise ENOSPC; other folders are unaffected."""
    real_fdopen, real_open = os.fdopen, open

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        inside = Path(os.readlink(f"/proc/self/fd/{fd}")).parent == full
        return FillingFile(handle, room) if inside else handle

    def opener(file: Any, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, *args, **kwargs)
        return FillingFile(handle, room) if Path(file).parent == full else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(formats_module, "open", opener, raising=False)


def open_files_under(folder: Path) -> list[str]:
    """Files under ``folder`` this process still has open."""
    names = (os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd"))
    return [name for name in names if Path(name).is_relative_to(folder)]


def recorded(recorder: EventRecorder, count: int) -> list[RecordedEvent]:
    bus = _Bus()
    recorder.start_recording(bus)
    for i in range(count):
        bus.publish("Tick", {"i": i, "pad": hashlib.sha256(bytes(i)).hexdigest()}, "feed")
    recorder.stop_recording()
    return recorder.events


class _Bus:
    def publish(self, event_name: str, event: object, source: str | None = None) -> str:
        return "delivered"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    full, spare = tmp_path / "full", tmp_path / "spare"
    full.mkdir()
    spare.mkdir()
    return full, spare


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl", ".json.gz"])
@pytest.mark.parametrize("room", [0, 300])
def test_a_full_disk_fails_the_save_cleanly_and_keeps_the_events(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path], suffix: str, room: int
) -> None:
    full, spare = folders
    target = write_cassette(full / f"session{suffix}", PREVIOUS)
    recorder = EventRecorder("disk", full)
    events = recorded(recorder, 50)
    fill_disk(monkeypatch, full, room)

    with pytest.raises(OSError, match="No space left on device") as caught:
        recorder.save(target.name)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target)  # the error names the file it was saving
    assert read_cassette(target) == PREVIOUS  # the old file is untouched
    assert sorted(p.name for p in full.iterdir()) == [target.name]  # no temporary left
    assert recorder.events == events
    assert read_cassette(recorder.save(spare / f"moved{suffix}")).events == tuple(events)


def test_a_disk_filling_up_mid_stream_never_reaches_the_publisher(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    full, spare = folders
    fill_disk(monkeypatch, full, 2000)
    recorder = EventRecorder("disk", full, stream_to=full / "live.jsonl")
    events = recorded(recorder, 50)  # publish never raised, or this would have failed

    assert len(events) == 50
    assert recorder.stream_error is not None
    assert recorder.stream_error.errno == errno.ENOSPC
    assert "No space left on device" in caplog.text
    assert "call save() to keep them" in caplog.text
    assert open_files_under(full) == [], "the failed stream's file was left open"
    streamed = read_leniently(full / "live.jsonl")
    assert streamed == events[: len(streamed)]  # what reached the disk is a clean prefix
    monkeypatch.undo()
    assert read_cassette(recorder.save(spare / "kept.jsonl")).events == tuple(events)


def test_a_stream_that_cannot_start_leaves_the_previous_file(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path]
) -> None:
    """Streaming over an existing cassette replaces it only once the new header is down:
    a full disk (or a kill) at the start never leaves an empty file at the path."""
    full, _ = folders
    target = write_cassette(full / "live.jsonl", PREVIOUS)
    fill_disk(monkeypatch, full, 0)
    recorder = EventRecorder("disk", full, stream_to=target)
    with pytest.raises(OSError, match="No space left on device"):
        recorder.start_recording(_Bus())
    monkeypatch.undo()
    assert read_cassette(target) == PREVIOUS
    assert [p.name for p in full.iterdir()] == ["live.jsonl"]
    assert open_files_under(full) == []


def test_fsync_failing_with_enospc_keeps_the_old_file(
    monkeypatch: pytest.MonkeyPatch, folders: tuple[Path, Path]
) -> None:
    """Some file systems only report a full disk when the data is flushed."""
    full, spare = folders
    target = write_cassette(full / "session.json", PREVIOUS)
    recorder = EventRecorder("disk", full)
    events = recorded(recorder, 20)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")).parent == full:
            raise enospc()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match=r"No space left on device: '.*session\.json'"):
        recorder.save("session.json")
    assert read_cassette(target) == PREVIOUS
    assert sorted(p.name for p in full.iterdir()) == ["session.json"]
    assert read_cassette(recorder.save(spare / "session.json")).events == tuple(events)


# --------------------------------------------------------------------------- a read-only folder


def unprivileged() -> list[str]:
    """A command prefix that runs without root's right to write anywhere."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot drop the override")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "read-only"
    folder.mkdir()
    write_cassette(folder / "old.json", PREVIOUS)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_a_read_only_folder_gives_clear_errors_and_keeps_the_events(
    read_only: Path, tmp_path: Path
) -> None:
    spare = tmp_path / "spare"
    spare.mkdir()
    command = [*unprivileged(), sys.executable, str(CHILD), "readonly", str(read_only), str(spare)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    report: dict[str, Any] = json.loads(done.stdout)

    assert report["save_error"][0] == "PermissionError"
    assert str(read_only / "blocked.json") in report["save_error"][1]  # the file asked for
    assert report["stream_error"][0] == "PermissionError"
    assert str(read_only / "live.jsonl") in report["stream_error"][1]
    assert report["kept"] == [{"i": i} for i in range(5)]
    assert report["left_in_folder"] == ["old.json"]
    assert read_cassette(read_only / "old.json") == PREVIOUS


# --------------------------------------------------------------------------- the dashboard


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [("full", 507, "No space left on device"), ("read-only", 500, "Permission denied")],
)
def test_the_dashboard_keeps_a_live_recording_it_cannot_save(
    monkeypatch: pytest.MonkeyPatch,
    folders: tuple[Path, Path],
    failure: str,
    status: int,
    words: str,
) -> None:
    full, _ = folders
    client = create_app(EventRecorderConfig(recordings_dir=full), testing=True).test_client()
    assert client.post("/api/record/start", json={"session_name": "live"}).status_code == 200
    for i in range(5):
        client.post("/api/record/event", json={"event_name": "E", "event_data": {"i": i}})
    if failure == "full":
        fill_disk(monkeypatch, full, 0)
    else:
        monkeypatch.setattr(tempfile, "mkstemp", read_only_mkstemp(full))

    response = client.post("/api/record/stop")
    assert response.status_code == status
    assert words in response.get_json()["error"]
    assert "nothing was lost" in response.get_json()["error"]
    assert client.get("/api/record/status").get_json()["total_events"] == 5
    assert [p.name for p in full.iterdir()] == []

    monkeypatch.undo()  # the disk has room again / the folder is writable again
    stopped = client.post("/api/record/stop").get_json()
    saved = read_cassette(full / stopped["filename"])
    assert [e.event_data for e in saved.events] == [{"i": i} for i in range(5)]


def read_only_mkstemp(folder: Path) -> Any:
    real = tempfile.mkstemp

    def mkstemp(*args: Any, **kwargs: Any) -> Any:
        if Path(kwargs.get("dir") or ".").resolve() == folder.resolve():
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(folder))
        return real(*args, **kwargs)

    return mkstemp
