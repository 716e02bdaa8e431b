"""Snapshot at publish, side by side with serialising the same event with orjson and with
``copy.deepcopy``, all measured in the same run.

    python benchmarks/bench_snapshot.py [--quick]

Per event shape (small dict, nested dict with lists, with and without a ``None`` in it,
dataclass, attrs, pydantic), CPU time per event, median of the rounds (interleaved):

- snapshot: what the recorder does on each publish (:func:`serialize.keep`, else the walk),
  its result kept, as a recorder keeps every event;
- without the extra: the same when the ``[fast]`` extra is not installed (flat events packed,
  anything else walked into dicts and lists): the path every snapshot took before;
- orjson: ``orjson.dumps`` of the event (a ``default`` dumps attrs and pydantic classes), its
  result dropped: the cost of serialising alone, the limit the target is measured against;
- deepcopy: ``copy.deepcopy``, its result kept;
- read back: ``EventRecorder.events`` after those publishes, per event: what the recorder
  kept becomes RecordedEvents once, when the events are first asked for (decoding, and the
  redaction of any key that may need it), with the extra and without it.

The events are made before the clock starts and then frozen (``gc.freeze``), so that the
garbage collector, on as in any program, sees what is kept (many events) and not the inputs.
Targets: snapshot <= 2x orjson, and <= deepcopy.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import orjson
import pydantic

from pytest_eventrecorder import EventRecorder, serialize
from pytest_eventrecorder.serialize import keep, pack, snapshot_unpacked

FULL_EVENTS, FULL_ROUNDS = 50_000, 5
QUICK_EVENTS, QUICK_ROUNDS = 500, 1


@dataclasses.dataclass
class Tick:
    symbol: str
    price: float
    volume: float


@attrs.define
class AttrsTick:
    symbol: str
    price: float
    volume: float


class PydanticTick(pydantic.BaseModel):
    symbol: str
    price: float
    volume: float


def _small(i: int) -> Any:
    return {"symbol": "BTC/USDT", "price": 67_500.0 + i % 100, "volume": 1_234.56}


def _nested(i: int) -> Any:
    """An order: 12 containers, 40 keys, a ``None``."""
    return {
        "order_id": f"ord-{i}",
        "placed_at": "2026-12-05T12:00:00Z",
        "status": "open",
        "customer": {
            "id": i,
            "name": "Ada Lovelace",
            "tier": "gold",
            "address": {"street": "1 Analytical Way", "city": "London", "zip": "N1 9GU"},
        },
        "items": [
            {"sku": f"sku-{k}", "qty": k + 1, "price": 9.99 * (k + 1), "tags": ["new", "sale"]}
            for k in range(5)
        ],
        "totals": {"net": 149.85, "tax": 29.97, "gross": 179.82, "currency": "EUR"},
        "flags": [True, False, True],
        "note": None,
    }


SHAPES: dict[str, Callable[[int], Any]] = {
    "small dict": _small,
    "nested dict with lists": _nested,
    "the same without None": lambda i: {**_nested(i), "note": "-"},  # no null: no NaN check
    "dataclass": lambda i: Tick("BTC/USDT", 67_500.0 + i % 100, 1_234.56),
    "attrs": lambda i: AttrsTick("BTC/USDT", 67_500.0 + i % 100, 1_234.56),
    "pydantic": lambda i: PydanticTick(symbol="BTC/USDT", price=67_500.0 + i % 100, volume=1.5),
}


def _reference_default(obj: Any) -> Any:
    if isinstance(obj, pydantic.BaseModel):
        return obj.model_dump()
    return attrs.asdict(obj, recurse=False)


def _orjson(event: Any) -> bytes:
    return orjson.dumps(event, default=_reference_default)


def _snapshot(event: Any) -> Any:
    kept = keep(event)
    return kept if kept is not None else snapshot_unpacked(event)


def _without_extra(event: Any) -> Any:
    packed = pack(event)
    return packed if packed is not None else snapshot_unpacked(event)


def _per_event_us(function: Callable[[Any], Any], events: list[Any], kept: bool) -> float:
    """CPU µs per call of ``function`` on each event, results kept or dropped."""
    gc.collect()
    gc.freeze()  # the inputs: the collector sees only what the loop keeps
    results: list[Any] = []
    append = results.append if kept else _drop
    began = time.process_time()
    for event in events:
        append(function(event))
    seconds = time.process_time() - began
    del results
    gc.unfreeze()
    return seconds / len(events) * 1e6


def _drop(value: Any) -> None:
    """Drops a result (the loop costs as much with it as with ``list.append``)."""


@contextlib.contextmanager
def _fast_encoder(on: bool) -> Iterator[None]:
    """The recorder with its fast encoder, or as it runs without the extra."""
    saved = serialize._DUMPS
    serialize._DUMPS = saved if on else None
    try:
        yield
    finally:
        serialize._DUMPS = saved


def _read_back_us(events: list[Any], fast: bool) -> float:
    """CPU µs per event of ``EventRecorder.events`` once ``events`` were published."""
    with _fast_encoder(fast):
        recorder = EventRecorder("bench")
        recorder.start_recording()
        for event in events:
            recorder._keep("Event", event)  # what a bus adapter calls on each publish
        gc.collect()
        began = time.process_time()
        built = recorder.events
        seconds = time.process_time() - began
        recorder.halt()
    del built
    return seconds / len(events) * 1e6


def bench_shape(make: Callable[[int], Any], count: int, rounds: int) -> dict[str, float]:
    """Median µs per event of each way, rounds interleaved."""
    events = [make(i) for i in range(count)]
    _snapshot(events[0])  # classes are looked at once, on their first event
    ways: dict[str, Callable[[], float]] = {
        "snapshot": lambda: _per_event_us(_snapshot, events, kept=True),
        "without the extra": lambda: _per_event_us(_without_extra, events, kept=True),
        "orjson": lambda: _per_event_us(_orjson, events, kept=False),
        "deepcopy": lambda: _per_event_us(copy.deepcopy, events, kept=True),
        "read back": lambda: _read_back_us(events, fast=True),
        "read back without the extra": lambda: _read_back_us(events, fast=False),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, measure in ways.items():
            times[name].append(measure())
    return {name: statistics.median(values) for name, values in times.items()}


def report(results: dict[str, dict[str, float]]) -> list[str]:
    rows = [
        "| shape | snapshot (µs) | without the extra (µs) | orjson (µs) | snapshot / orjson "
        "(target <= 2) | deepcopy (µs) | snapshot / deepcopy (target <= 1) | read back (µs) "
        "| read back without the extra (µs) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for shape, r in results.items():
        to_orjson, to_deepcopy = r["snapshot"] / r["orjson"], r["snapshot"] / r["deepcopy"]
        verdict = "PASS" if to_orjson <= 2 and to_deepcopy <= 1 else "MISS"
        rows.append(
            f"| {shape} | {r['snapshot']:.2f} | {r['without the extra']:.2f} "
            f"| {r['orjson']:.2f} | {to_orjson:.2f}x | {r['deepcopy']:.2f} "
            f"| {to_deepcopy:.2f}x | {r['read back']:.2f} "
            f"| {r['read back without the extra']:.2f} | {verdict} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    args = parser.parse_args(argv)
    count, rounds = (QUICK_EVENTS, QUICK_ROUNDS) if args.quick else (FULL_EVENTS, FULL_ROUNDS)
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; {count:,} events x {rounds}")
    results = {shape: bench_shape(make, count, rounds) for shape, make in SHAPES.items()}
    print("\n".join(report(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
