"""A recording process for the crash tests to kill: it prints a line after each step returns.

python rel_child.py stream PATH SEED      publish forever, "ack I" after each publish
python rel_child.py finalize PATH COUNT   publish COUNT events, then "stopping", stop
python rel_child.py save PATH COUNT       record COUNT events, then save PATH again and
                                          again ("saving G" / "saved G"), one more event
                                          recorded before each save
python rel_child.py readonly FOLDER SPARE try to save and stream into a read-only FOLDER,
                                          then save into SPARE; print a JSON report
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from pytest_eventrecorder import EventRecorder, read_cassette

MAX_EVENTS = 200_000
"""A guard: the parent kills the child long before this."""


class Bus:
    def publish(self, event_name: str, event: object, source: str | None = None) -> None:
        """Delivers nowhere: the recorder wraps this method."""


def payload(rng: random.Random, i: int) -> dict[str, object]:
    # Varied sizes, so a kill lands inside a line as often as between lines.
    return {"i": i, "pad": "é" * rng.randrange(0, 400), "nested": {"list": list(range(i % 7))}}


def stream(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    bus = Bus()
    recorder = EventRecorder("crash", path.parent, stream_to=path)
    recorder.start_recording(bus)
    for i in range(MAX_EVENTS):
        bus.publish("Tick", payload(rng, i), "feed")
        print(f"ack {i}", flush=True)


def finalize(path: Path, count: int) -> None:
    rng = random.Random(count)
    bus = Bus()
    recorder = EventRecorder("crash", path.parent, stream_to=path)
    recorder.start_recording(bus)
    for i in range(count):
        bus.publish("Tick", payload(rng, i), "feed")
    print("stopping", flush=True)
    recorder.stop_recording()
    print("stopped", flush=True)
    time.sleep(60)


def save(path: Path, count: int) -> None:
    rng = random.Random(count)
    recorder = EventRecorder("crash", path.parent)
    recorder.start_recording()
    for i in range(count):
        recorder.record("Tick", payload(rng, i), "feed")
    for generation in range(1, MAX_EVENTS):
        recorder.record("Generation", {"generation": generation})
        print(f"saving {generation}", flush=True)
        recorder.save(path)
        print(f"saved {generation}", flush=True)


def readonly(folder: Path, spare: Path) -> None:
    """Run without the right to write ``folder`` (the parent drops root's override)."""
    report: dict[str, object] = {}
    recorder = EventRecorder("ro", folder)
    recorder.start_recording()
    for i in range(5):
        recorder.record("Tick", {"i": i})
    try:
        recorder.save("blocked.json")
    except OSError as exc:
        report["save_error"] = [type(exc).__name__, str(exc)]
    try:
        EventRecorder("ro", folder, stream_to=folder / "live.jsonl").start_recording()
    except OSError as exc:
        report["stream_error"] = [type(exc).__name__, str(exc)]
    recorder.stop_recording()
    saved = recorder.save(spare / "kept.json")
    report["kept"] = [e.event_data for e in read_cassette(saved).events]
    report["left_in_folder"] = sorted(p.name for p in folder.iterdir())
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    mode, target, number = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    if mode == "readonly":
        readonly(target, Path(number))
    else:
        {"stream": stream, "finalize": finalize, "save": save}[mode](target, int(number))
