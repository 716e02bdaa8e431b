"""A batch a broker adapter hands over (``more=True``) may wait in the stream's buffer for its
last event; with ``keep_events=False`` the events live only in the stream file, so reading
them back mid-batch must still give every event recorded, exactly once, in order."""

from __future__ import annotations

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
