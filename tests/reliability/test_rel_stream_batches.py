"""A batch a broker adapter hands over (``more=True``) may wait in the stream's buffer for its
last event; with ``keep_events=False`` the events live only in the stream file, so reading
them back mid-batch must still give every event recorded, exactly once, in order."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder import EventRecorder, RecordedEvent, read_cassette


class BatchingBus:
    """A bus adapter that hands received messages over in batches, as the broker adapters do:
    ``more=True`` on each but the last of a batch."""

    name = "batching"

    def __init__(self) -> None:
        self.sink: Any = None

    def attach(self, sink: Any) -> None:
        self.sink = sink

    def detach(self) -> None:
        self.sink = None

    def publish(self, event: RecordedEvent, payload: object) -> None:
        raise NotImplementedError("recording only")

    def close(self) -> None:
        """Nothing to release."""

    def hand_over(self, numbers: range, *, last: bool) -> None:
        """Events ``numbers`` of a batch; ``last``: the batch ends with the final one."""
        for n in numbers:
            more = not (last and n == numbers[-1])
            self.sink("Tick", {"n": n}, "feed", None, received_ns=None, more=more)


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_events_read_back_mid_batch_are_every_one_recorded(tmp_path: Path, suffix: str) -> None:
    bus = BatchingBus()
    recorder = EventRecorder(
        "batches", tmp_path, stream_to=tmp_path / f"live{suffix}", keep_events=False
    )
    recorder.start_recording(bus)
    try:
        bus.hand_over(range(10), last=True)
        bus.hand_over(range(10, 25), last=False)  # the batch's last event has not come yet
        expected = [{"n": n} for n in range(25)]
        assert recorder.event_count == 25
        assert [e.event_data for e in recorder.events] == expected
        assert [e.event_data for e in recorder.to_cassette().events] == expected
        saved = read_cassette(recorder.save("mid-batch.json"))
        assert saved.header.total_events == 25
        assert [e.event_data for e in saved.events] == expected
        bus.hand_over(range(25, 30), last=True)
    finally:
        events = recorder.stop_recording()
    assert [e.event_data for e in events] == [{"n": n} for n in range(30)]


class HeldFile:
    """A file whose bytes reach the disk only when flushed, and are lost when the disk is
    full by then (as the OS never got them): ``full`` turns the disk full."""

    full = False

    def __init__(self, real: Any) -> None:
        self._real = real  # the real file os.fdopen opened
        self._held = bytearray()

    def write(self, data: bytes) -> int:
        self._held += data
        return len(data)

    def flush(self) -> None:
        if HeldFile.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._real.write(self._held)
        self._real.flush()
        self._held.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._real.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
def holding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[BatchingBus, EventRecorder]:
    """A recorder streaming to a :class:`HeldFile` (``keep_events=False``), 10 events written
    and a batch of 15 more held back in the stream's buffer for one write with its last."""
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HeldFile(real_fdopen(*a, **k)))
    monkeypatch.setattr(HeldFile, "full", False)
    bus = BatchingBus()
    path = tmp_path / "live.jsonl"
    recorder = EventRecorder("batches", tmp_path, stream_to=path, keep_events=False)
    recorder.start_recording(bus)
    bus.hand_over(range(10), last=True)
    bus.hand_over(range(10, 25), last=False)
    return bus, recorder


def test_a_batch_whose_flush_fails_is_kept_in_memory(
    holding: tuple[BatchingBus, EventRecorder],
) -> None:
    """The disk fills while a batch waits in the stream's buffer: its events were counted as
    in the file, so the recorder takes them back into memory, with everything after them."""
    bus, recorder = holding
    HeldFile.full = True
    bus.hand_over(range(25, 26), last=True)  # the batch's write fails: streaming stops
    bus.hand_over(range(26, 30), last=True)  # kept in memory from now on
    expected = [{"n": n} for n in range(30)]
    assert recorder.stream_error is not None
    assert [e.event_data for e in recorder.events] == expected
    assert [e.event_data for e in recorder.stop_recording()] == expected


def test_a_batch_held_when_recording_stops_on_a_full_disk_is_kept(
    holding: tuple[BatchingBus, EventRecorder],
) -> None:
    _, recorder = holding
    HeldFile.full = True
    events = recorder.stop_recording()  # the batch's end never came; its write fails
    assert recorder.stream_error is not None
    assert [e.event_data for e in events] == [{"n": n} for n in range(25)]
