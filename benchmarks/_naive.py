"""A naive recorder/replayer that behaves like the original implementation the seed describes.

It is the baseline ``bench_core.py`` measures against, so it keeps the original's choices on
purpose: wall-clock offsets in whole milliseconds, the payload kept by reference (a mutation
after publishing rewrites the recording), ``time.sleep`` for each gap between events (late
wake-ups add up), and ``json.load`` of the whole file before the first event is replayed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


@dataclass
class NaiveRecordedEvent:
    timestamp_offset_ms: int
    event_name: str
    event_data: Any
    source: str | None


class NaiveRecorder:
    def __init__(self, session_name: str, output_dir: str | Path = "recordings") -> None:
        self.session_name = session_name
        self.output_dir = Path(output_dir)
        self.events: list[NaiveRecordedEvent] = []
        self.start_time = 0.0
        self._bus: Any = None
        self._original: Any = None

    def start_recording(self, service_bus: Any) -> None:
        self._bus = service_bus
        self._original = service_bus.publish
        self.start_time = time.time()
        self.events = []

        def recording_publish(event_name: str, event: Any, source: str | None = None) -> Any:
            self._record_event(event_name, event, source)
            return self._original(event_name, event, source)

        service_bus.publish = recording_publish

    def _record_event(self, event_name: str, event: Any, source: str | None) -> None:
        offset_ms = int((time.time() - self.start_time) * 1000)
        data = self._serialize_event(event)
        self.events.append(NaiveRecordedEvent(offset_ms, event_name, data, source))

    @staticmethod
    def _serialize_event(event: Any) -> Any:
        if hasattr(event, "model_dump"):
            return event.model_dump()
        if hasattr(event, "__dict__"):
            return event.__dict__  # by reference: the original's behaviour
        return event

    def stop_recording(self) -> None:
        self._bus.publish = self._original

    def save(self, filename: str) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / filename
        document = {
            "session_name": self.session_name,
            "start_time": datetime.fromtimestamp(self.start_time, timezone.utc).isoformat(),
            "duration_ms": self.events[-1].timestamp_offset_ms if self.events else 0,
            "total_events": len(self.events),
            "events": [asdict(e) for e in self.events],
        }
        with open(path, "w") as out:
            json.dump(document, out, indent=2, default=str)
        return path


class NaiveReplayer:
    def __init__(self, recording_file: str | Path) -> None:
        with open(recording_file) as f:
            self.recording = json.load(f)  # the whole file, before anything is replayed

    def replay(self, service_bus: Any, speed_multiplier: float = 1.0) -> int:
        previous_ms = 0.0
        published = 0
        for event in self.recording["events"]:
            delay = (event["timestamp_offset_ms"] - previous_ms) / 1000.0 / speed_multiplier
            if delay > 0:
                time.sleep(delay)  # gap by gap: every late wake-up delays all that follow
            service_bus.publish(event["event_name"], event["event_data"], event.get("source"))
            previous_ms = event["timestamp_offset_ms"]
            published += 1
        return published
