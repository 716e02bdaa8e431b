"""One test's recorded clock (``clock="recorded"``): what its replays follow, so the outputs
``new_episodes`` appends are stamped with the recorded time they were published at, the
same on every run, instead of the machine's."""

from __future__ import annotations

from ..cassette import RecordedEvent
from ..recorder import EventRecorder
from ..timetravel import REAL_PERF_COUNTER_NS, Timeline, check_clock


class ReplayTime:
    """The :class:`Timeline` a test's replays follow, and where its recorder's offsets
    start on the real clock."""

    def __init__(self, clock: str | None, recorder: EventRecorder) -> None:
        self._timeline = Timeline() if check_clock(clock) is not None else None
        self._recorder = recorder
        self._real0: int | None = None

    def clock(self) -> Timeline | None:
        """The ``clock=`` of a replay starting now."""
        if self._timeline is not None and self._real0 is None:
            self._real0 = REAL_PERF_COUNTER_NS() - round(self._recorder.elapsed_ms * 1e6)
        return self._timeline

    def stamp(self, event: RecordedEvent) -> float | None:
        """The recorded time ``event`` (captured by the recorder) was published at;
        ``None`` without the clock, or when it was published outside a replay."""
        if self._timeline is None or self._real0 is None:
            return None
        real_ns = self._real0 + round(event.timestamp_offset_ms * 1e6)
        return self._timeline.offset_ms_at(real_ns)
