"""What causes cost: the replayer marking each input it publishes (a ContextVar set and reset
around the publish), and comparing outputs input by input instead of as one sequence.

Measured in the same run against their baselines: publishing with the mark vs. without (the
per-event overhead in microseconds, limit 2 us), and ``match_by_cause`` vs. ``match_events``
on 20,000 outputs of 10,000 inputs with one output dropped (ratio, limit 3).

Usage: ``python benchmarks/bench_causes.py [--events 200000]``.
"""

from __future__ import annotations

import argparse
import time

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.causality import mark, match_by_cause, unmark, with_cause
from pytest_eventrecorder.compare import match_events

LIMIT_US = 2.0
LIMIT_RATIO = 3.0


def per_event_us(events: list[RecordedEvent], marked: bool) -> float:
    sink: list[RecordedEvent] = []
    publish = sink.append
    started = time.perf_counter()
    if marked:
        for event in events:  # as the replayer marks each input it publishes
            token = mark(event, None)
            try:
                publish(event)
            finally:
                unmark(token)
    else:
        for event in events:
            publish(event)
    return (time.perf_counter() - started) / len(events) * 1e6


def comparison_seconds(inputs: int) -> tuple[float, float]:
    recorded = []
    outputs = []
    for i in range(inputs):
        recorded.append(RecordedEvent(i, "Tick", {"n": i}, "feed"))
        for k in range(2):
            out = with_cause(RecordedEvent(i, "Order", {"n": i, "k": k}, "bot"), 3 * i)
            recorded.append(out)
            outputs.append(out)
    actual = outputs[:100] + outputs[101:]
    started = time.perf_counter()
    match_events(outputs, actual)
    plain = time.perf_counter() - started
    started = time.perf_counter()
    match_by_cause(recorded, outputs, actual)
    by_cause = time.perf_counter() - started
    return plain, by_cause


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    count = parser.parse_args().events
    events = [RecordedEvent(i, "Tick", {"n": i}, "feed") for i in range(count)]
    bare = min(per_event_us(events, False) for _ in range(3))
    marked = min(per_event_us(events, True) for _ in range(3))
    overhead = marked - bare
    print(f"mark per published input: {overhead:.2f} us (limit {LIMIT_US} us)")
    plain, by_cause = comparison_seconds(10_000)
    ratio = by_cause / plain
    print(
        f"compare 20,000 outputs, one dropped: plain {plain * 1e3:.0f} ms, input by input "
        f"{by_cause * 1e3:.0f} ms, ratio {ratio:.2f} (limit {LIMIT_RATIO})"
    )
    ok = overhead <= LIMIT_US and ratio <= LIMIT_RATIO
    print("OK" if ok else "OVER THE LIMIT")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
