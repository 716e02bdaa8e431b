"""Core engine benchmark, side by side with a naive reference measured in the same run.

    python benchmarks/bench_core.py [--quick]

Three measurements (``--quick`` shrinks every size, for smoke tests; its verdicts mean little):

1. Recording overhead per publish, over a bare bus publish: the naive reference (payload by
   reference) against EventRecorder, which deep-snapshots every event, attached with
   ``start_recording(bus)``. Also shown, with no target: the same one-line wrapper the
   naive reference uses calling ``EventRecorder.record``, which builds and returns a
   RecordedEvent on every call, and plain dict events (which the naive reference keeps
   without copying).
2. Timing of a 1x replay of events 2 ms apart: drift of the last event, median and p99 of
   the absolute error of every event against its recorded offset.
3. Instant replay (``speed_multiplier=inf``) of a large cassette, each side in a fresh
   process: events/s and extra memory (peak RSS over the RSS before opening the file).
   EventReplayer streams a ``.jsonl`` cassette; the naive reference loads the same events
   from a ``.json`` file, as the original did. Also the limit, measured in the same run:
   "decode + publish" (see :func:`decode_and_publish`), and the core replay's time over it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _naive import NaiveRecorder, NaiveReplayer

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.cassette import CassetteHeader
from pytest_eventrecorder.formats import write_events


@dataclass(frozen=True)
class Sizes:
    publishes: int
    rounds: int
    timed_events: int
    timed_rounds: int
    instant_events: int


FULL = Sizes(publishes=50_000, rounds=5, timed_events=500, timed_rounds=3, instant_events=1_000_000)
QUICK = Sizes(publishes=2_000, rounds=2, timed_events=25, timed_rounds=1, instant_events=5_000)
GAP_MS = 2.0


@dataclass
class MarketDataReceived:
    symbol: str
    price: float
    volume: float


class ServiceBus:
    """The seed's bus: subscribers per event name, called in order."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[Any], None]]] = {}

    def subscribe(self, event_name: str, handler: Callable[[Any], None]) -> None:
        self.subscribers.setdefault(event_name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in self.subscribers.get(event_name, ()):
            handler(event)


class StampingBus:
    """Notes when each event arrives (monotonic ns)."""

    def __init__(self, expected: int) -> None:
        self.arrivals: list[int] = []
        self.arrivals_reserve = expected

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        self.arrivals.append(time.perf_counter_ns())


class CountingBus:
    def __init__(self) -> None:
        self.count = 0

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        self.count += 1


class CountingAdapter:
    """A bus speaking the adapter protocol itself: replay cost without the seed-bus adapter."""

    name = "counting"

    def __init__(self) -> None:
        self.count = 0

    def attach(self, sink: Any) -> None:
        raise NotImplementedError("replay only")

    def detach(self) -> None:
        """Nothing attached."""

    def close(self) -> None:
        """Nothing to release."""

    def publish(self, event: RecordedEvent, payload: object) -> None:
        self.count += 1


# --------------------------------------------------------------------------- 1. recording


def _typed_events(n: int) -> list[Any]:
    return [MarketDataReceived("BTC/USDT", 67_500.0 + i % 100, 1_234.56) for i in range(n)]


def _dict_events(n: int) -> list[Any]:
    return [
        {"symbol": "BTC/USDT", "price": 67_500.0 + i % 100, "volume": 1_234.56} for i in range(n)
    ]


def _publish_loop(bus: ServiceBus, events: list[Any]) -> float:
    """Seconds to publish fresh trading ``events`` through ``bus.publish``."""
    publish = bus.publish  # read after any recorder patched it
    gc.collect()
    began = time.perf_counter()
    for event in events:
        publish("MarketDataReceived", event, "MarketDataAgent")
    return time.perf_counter() - began


def _bare(bus: ServiceBus, tmp: Path) -> Callable[[], None]:
    return lambda: None


def _naive(bus: ServiceBus, tmp: Path) -> Callable[[], None]:
    recorder = NaiveRecorder("bench", tmp)
    recorder.start_recording(bus)
    return recorder.stop_recording


def _ours_end_to_end(bus: ServiceBus, tmp: Path) -> Callable[[], None]:
    recorder = EventRecorder("bench", tmp)
    recorder.start_recording(bus)
    return _stopper(recorder)


def _ours_by_hand(bus: ServiceBus, tmp: Path) -> Callable[[], None]:
    recorder = EventRecorder("bench", tmp)
    recorder.start_recording()
    record, original = recorder.record, bus.publish

    def recording_publish(event_name: str, event: Any, source: str | None = None) -> Any:
        record(event_name, event, source)
        return original(event_name, event, source)

    bus.publish = recording_publish  # type: ignore[method-assign]
    return _stopper(recorder)


def _stopper(recorder: EventRecorder) -> Callable[[], None]:
    def stop() -> None:
        recorder.stop_recording()

    return stop


RECORDERS: dict[str, Callable[[ServiceBus, Path], Callable[[], None]]] = {
    "bare bus": _bare,
    "naive": _naive,
    "ours, end to end": _ours_end_to_end,
    "record() by hand": _ours_by_hand,
}


def bench_recording(
    sizes: Sizes, tmp: Path, make_events: Callable[[int], list[Any]]
) -> dict[str, float]:
    """Median overhead per publish (µs) over the bare bus, rounds interleaved."""
    seconds: dict[str, list[float]] = {name: [] for name in RECORDERS}
    for _ in range(sizes.rounds):
        for name, setup in RECORDERS.items():
            bus = ServiceBus()
            bus.subscribe("MarketDataReceived", lambda event: None)
            teardown = setup(bus, tmp)
            seconds[name].append(_publish_loop(bus, make_events(sizes.publishes)))
            teardown()
    per_publish = {k: statistics.median(v) / sizes.publishes * 1e6 for k, v in seconds.items()}
    bare = per_publish.pop("bare bus")
    return {k: v - bare for k, v in per_publish.items()}


def isolation_check(tmp: Path) -> tuple[bool, bool]:
    """Whether a mutation after publishing leaves each recording alone (naive, ours)."""
    results = []
    for setup in (_naive_isolation, _ours_isolation):
        results.append(setup(tmp))
    return results[0], results[1]


def _naive_isolation(tmp: Path) -> bool:
    bus, recorder = ServiceBus(), NaiveRecorder("iso", tmp)
    recorder.start_recording(bus)
    event = MarketDataReceived("BTC/USDT", 1.0, 1.0)
    bus.publish("MarketDataReceived", event, "agent")
    event.price = 2.0
    return bool(recorder.events[0].event_data["price"] == 1.0)


def _ours_isolation(tmp: Path) -> bool:
    bus, recorder = ServiceBus(), EventRecorder("iso", tmp)
    recorder.start_recording(bus)
    event = MarketDataReceived("BTC/USDT", 1.0, 1.0)
    bus.publish("MarketDataReceived", event, "agent")
    event.price = 2.0
    return bool(recorder.events[0].event_data["price"] == 1.0)


# --------------------------------------------------------------------------- 2. 1x timing


@dataclass
class Timing:
    drift_ms: float
    median_ms: float
    p99_ms: float


def _timed_events(n: int) -> Iterator[RecordedEvent]:
    for i in range(n):
        yield RecordedEvent(i * GAP_MS, "PriceTick", {"symbol": "BTC/USDT", "seq": i}, "Feed")


def _timing_of(arrivals: list[int], n: int) -> Timing:
    errors = [(t - arrivals[0]) / 1e6 - i * GAP_MS for i, t in enumerate(arrivals)]
    absolute = sorted(abs(e) for e in errors)
    p99 = absolute[min(len(absolute) - 1, math.ceil(0.99 * len(absolute)) - 1)]
    return Timing(errors[-1], statistics.median(absolute), p99)


def bench_timing(sizes: Sizes, tmp: Path) -> dict[str, Timing]:
    path = tmp / "timed.json"
    header = CassetteHeader("timed", "2025-10-17T10:00:00Z")
    write_events(path, header, _timed_events(sizes.timed_events))
    runs: dict[str, list[Timing]] = {"naive": [], "ours": []}
    for _ in range(sizes.timed_rounds):
        bus = StampingBus(sizes.timed_events)
        NaiveReplayer(path).replay(bus, 1.0)
        runs["naive"].append(_timing_of(bus.arrivals, sizes.timed_events))
        bus = StampingBus(sizes.timed_events)
        EventReplayer(path).replay(bus, 1.0)
        runs["ours"].append(_timing_of(bus.arrivals, sizes.timed_events))
    return {k: max(v, key=lambda t: t.p99_ms) for k, v in runs.items()}  # the worst round


# --------------------------------------------------------------------------- 3. instant


@dataclass
class Instant:
    events_per_s: float
    extra_mb: float


def _instant_events(n: int) -> Iterator[RecordedEvent]:
    for i in range(n):
        if i % 10 == 9:
            data = {"symbol": "BTC/USDT", "side": "buy", "size": 0.1}
            yield RecordedEvent(i * 0.5, "PositionOpened", data, "TradingBot")
        else:
            data = {"symbol": "BTC/USDT", "price": 67_500.0 + i % 100, "volume": 1_234.56}
            yield RecordedEvent(i * 0.5, "MarketDataReceived", data, "MarketDataAgent")


def _write_seed_json(path: Path, n: int) -> None:
    """The same events in the seed's JSON format, written event by event to spare memory."""
    head = {"session_name": "instant", "start_time": "2025-10-17T10:00:00Z"}
    with open(path, "w") as out:
        out.write(json.dumps(head)[:-1] + ', "events": [\n')
        for i, event in enumerate(_instant_events(n)):
            out.write((",\n" if i else "") + json.dumps(event.to_dict()))
        out.write("\n]}\n")


def bench_instant(sizes: Sizes, tmp: Path) -> dict[str, Instant]:
    jsonl, seed_json = tmp / "instant.jsonl", tmp / "instant.json"
    header = CassetteHeader("instant", "2025-10-17T10:00:00Z")
    write_events(jsonl, header, _instant_events(sizes.instant_events))
    _write_seed_json(seed_json, sizes.instant_events)
    return {
        "naive": _child("naive", seed_json, sizes.instant_events),
        "ours": _child("ours", jsonl, sizes.instant_events),
        "ours, core": _child("core", jsonl, sizes.instant_events),
        "decode + publish": _child("decode", jsonl, sizes.instant_events),
    }


def decode_and_publish(path: Path) -> int:
    """The limit an instant ``.jsonl`` replay is measured against: the file read in blocks,
    a batch of lines parsed with one call (msgspec when installed, else the standard
    library) and each parsed line handed to the bus; nothing checked, nothing built."""
    try:
        import msgspec

        decode: Callable[[bytes], Any] = msgspec.json.Decoder().decode
    except ImportError:
        decode = json.loads
    bus = CountingAdapter()
    with open(path, "rb") as raw:
        raw.readline()  # the header
        rest = b""
        while block := raw.read(1 << 20):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            lines = block[:cut].splitlines()
            for start in range(0, len(lines), 64):
                for row in decode(b"[" + b",".join(lines[start : start + 64]) + b"]"):
                    bus.publish(row, row["event_data"])
    return bus.count


def _child(side: str, path: Path, n: int) -> Instant:
    argv = [sys.executable, __file__, "--child", side, str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    if figures["published"] != n:
        raise RuntimeError(f"{side} published {figures['published']} of {n} events")
    return Instant(n / figures["seconds"], figures["extra_mb"])


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def run_child(side: str, path: Path) -> None:
    """One instant replay in this (fresh) process; prints its figures as JSON."""
    bus = CountingAdapter() if side == "core" else CountingBus()
    gc.collect()
    with contextlib.suppress(OSError):  # reset the peak-RSS mark: measure the replay alone
        Path("/proc/self/clear_refs").write_text("5")
    before = _rss_kb("VmRSS")
    began = time.perf_counter()
    if side in ("ours", "core"):
        EventReplayer(path).replay(bus, speed_multiplier=math.inf)
        published = bus.count
    elif side == "decode":
        published = decode_and_publish(path)
    else:
        NaiveReplayer(path).replay(bus, speed_multiplier=math.inf)
        published = bus.count
    seconds = time.perf_counter() - began
    extra_mb = (_rss_kb("VmHWM") - before) / 1024
    print(json.dumps({"seconds": seconds, "extra_mb": extra_mb, "published": published}))


# --------------------------------------------------------------------------- report


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else "PASS" if ok else "MISS"


def report(
    recording: dict[str, float],
    dicts: dict[str, float],
    isolated: tuple[bool, bool],
    timing: dict[str, Timing],
    instant: dict[str, Instant],
    sizes: Sizes,
) -> list[str]:
    naive_rec = recording["naive"]
    t_n, t_o = timing["naive"], timing["ours"]
    i_n, i_o, i_c = instant["naive"], instant["ours"], instant["ours, core"]
    rows = [
        "| Measurement | naive reference | pytest-eventrecorder | ratio | target | verdict |",
        "|---|---|---|---|---|---|",
        _row(
            "recording overhead per publish, end to end (µs)",
            naive_rec,
            recording["ours, end to end"],
            "<= naive",
            recording["ours, end to end"] <= naive_rec,
        ),
        _row(
            "overhead of record() by hand, which returns each event (µs)",
            naive_rec,
            recording["record() by hand"],
            "-",
            None,
        ),
        _row(
            "recording overhead, plain dict events, end to end (µs)",
            dicts["naive"],
            dicts["ours, end to end"],
            "-",
            None,
        ),
        f"| recording survives a later mutation of the event | {_yes(isolated[0])} "
        f"| {_yes(isolated[1])} | | yes | {_verdict(isolated[1])} |",
        _row(
            f"1x replay, {sizes.timed_events} events {GAP_MS:g} ms apart: final drift (ms)",
            t_n.drift_ms,
            t_o.drift_ms,
            "<= 1",
            abs(t_o.drift_ms) <= 1,
        ),
        _row(
            "1x replay: median abs error (ms)",
            t_n.median_ms,
            t_o.median_ms,
            "<= 0.2",
            t_o.median_ms <= 0.2,
        ),
        _row("1x replay: p99 abs error (ms)", t_n.p99_ms, t_o.p99_ms, "<= 1", t_o.p99_ms <= 1),
        _row(
            f"instant replay of {sizes.instant_events:,} events, core (events/s)",
            i_n.events_per_s,
            i_c.events_per_s,
            ">= 300k",
            i_c.events_per_s >= 300_000,
            digits=0,
        ),
        _row(
            "instant replay, end to end (events/s)",
            i_n.events_per_s,
            i_o.events_per_s,
            ">= 300k",
            i_o.events_per_s >= 300_000,
            digits=0,
        ),
        _row(
            "instant replay: extra memory (MB)",
            i_n.extra_mb,
            i_o.extra_mb,
            "<= 100",
            i_o.extra_mb <= 100,
            digits=1,
        ),
    ]
    return rows


def against_the_limit(instant: dict[str, Instant]) -> str:
    """The core instant replay against decode + publish, the limit measured in this run."""
    limit, core = instant["decode + publish"].events_per_s, instant["ours, core"].events_per_s
    return (
        f"instant replay, core, against decode + publish in this run: {core:,.0f} against "
        f"{limit:,.0f} events/s, {limit / core:.2f}x its time (target <= 1.5x): "
        f"{_verdict(limit <= 1.5 * core)}"
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _row(
    name: str, naive: float, ours: float, target: str, ok: bool | None, digits: int = 3
) -> str:
    ratio = f"{ours / naive:.2f}x" if naive and math.isfinite(ours / naive) else "-"
    return (
        f"| {name} | {naive:,.{digits}f} | {ours:,.{digits}f} | {ratio} | {target} "
        f"| {_verdict(ok)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args.child[0], Path(args.child[1]))
        return 0
    sizes = QUICK if args.quick else FULL
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs; sizes: {sizes}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_core_") as folder:
        tmp = Path(folder)
        recording = bench_recording(sizes, tmp, _typed_events)
        dicts = bench_recording(sizes, tmp, _dict_events)
        isolated = isolation_check(tmp)
        print("recording done", flush=True)
        timing = bench_timing(sizes, tmp)
        print("timing done", flush=True)
        instant = bench_instant(sizes, tmp)
    print()
    print("\n".join(report(recording, dicts, isolated, timing, instant, sizes)))
    print(against_the_limit(instant))
    print(NOTES)
    return 0


NOTES = """
end to end: through start_recording(bus) / replay(bus), i.e. with the seed-bus adapter.
core (replay): into a bus that speaks the adapter protocol itself.
record() by hand: the naive reference's one-line wrapper calling EventRecorder.record,
which returns a new RecordedEvent per call; adapters skip that and keep a packed entry.
plain dict events: the naive reference keeps the very dict; we keep a copy.
The naive reference calls bus.publish itself, with no adapter in between."""


if __name__ == "__main__":
    sys.exit(main())
