"""Threads at once: publishers racing a stop, a replay steered from other threads, and
pytest-xdist workers recording and replaying into one cassette folder."""

from __future__ import annotations

import asyncio
import random
import sys
import textwrap
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from pytest_eventrecorder import (
    EventRecorder,
    EventReplayer,
    RecordedEvent,
    read_cassette,
)

PUBLISHERS = 8


class Bus:
    """A seed-style bus; returns a value so the test can see it pass through."""

    def publish(self, event_name: str, event: object, source: str | None = None) -> str:
        return f"ok {event_name}"


class Publisher(threading.Thread):
    """Publishes (thread, seq) events until told to stop; notes which publishes returned
    before the recording began to stop."""

    def __init__(self, number: int, bus: Bus, stopping: threading.Event, quit_: threading.Event):
        super().__init__(daemon=True)
        self.number, self.bus = number, bus
        self.stopping, self.quit = stopping, quit_
        self.returned_before_stop = -1
        self.published = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        seq = 0
        try:
            while not self.quit.is_set():
                assert self.bus.publish("Tick", {"t": self.number, "seq": seq}, f"p{self.number}")
                if not self.stopping.is_set():
                    self.returned_before_stop = seq
                seq += 1
                self.published = seq
                time.sleep(0)  # hand the GIL over: the stopping thread gets its turn too
        except BaseException as exc:
            self.error = exc


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
@pytest.mark.parametrize("seed", range(6))
def test_publishers_racing_a_stop_lose_nothing_and_record_nothing_after(
    tmp_path: Path, seed: int, streamed: bool
) -> None:
    bus = Bus()
    original = bus.publish
    stream = tmp_path / "live.jsonl" if streamed else None
    recorder = EventRecorder("race", tmp_path, stream_to=stream)
    stopping, quit_ = threading.Event(), threading.Event()
    publishers = [Publisher(n, bus, stopping, quit_) for n in range(PUBLISHERS)]
    recorder.start_recording(bus)
    for publisher in publishers:
        publisher.start()
    time.sleep(random.Random(seed).uniform(0.005, 0.05))

    stopping.set()
    recorder.stop_recording()
    frozen = recorder.events
    time.sleep(0.02)  # the publishers keep going after the stop
    quit_.set()
    for publisher in publishers:
        publisher.join(timeout=30)

    assert [p.error for p in publishers] == [None] * PUBLISHERS
    assert recorder.events == frozen, "an event was recorded after stop_recording() returned"
    assert sum(p.published for p in publishers) > len(frozen), "nobody published after the stop"
    assert bus.publish == original, "the bus was not restored"
    by_thread: dict[int, list[int]] = defaultdict(list)
    for event in frozen:
        by_thread[event.event_data["t"]].append(event.event_data["seq"])
    for publisher in publishers:
        seqs = by_thread[publisher.number]
        assert seqs == list(range(len(seqs))), "a thread's events are missing or out of order"
        assert len(seqs) > publisher.returned_before_stop, "a publish that returned was lost"
    offsets = [e.timestamp_offset_ms for e in frozen]
    assert offsets == sorted(offsets)
    if stream is not None:
        assert read_cassette(stream).events == tuple(frozen)


def contiguous_per_thread(events: list[RecordedEvent] | tuple[RecordedEvent, ...]) -> None:
    by_thread: dict[int, list[int]] = defaultdict(list)
    for event in events:
        by_thread[event.event_data["t"]].append(event.event_data["seq"])
    for seqs in by_thread.values():
        assert seqs == list(range(len(seqs))), "a thread's events are missing or out of order"
    offsets = [e.timestamp_offset_ms for e in events]
    assert offsets == sorted(offsets)


def test_reading_and_saving_while_threads_publish_gives_consistent_snapshots(
    tmp_path: Path,
) -> None:
    bus = Bus()
    recorder = EventRecorder("busy", tmp_path)
    stopping, quit_ = threading.Event(), threading.Event()
    publishers = [Publisher(n, bus, stopping, quit_) for n in range(PUBLISHERS)]
    recorder.start_recording(bus)
    for publisher in publishers:
        publisher.start()
    sizes = []
    for round_ in range(10):
        contiguous_per_thread(recorder.events)
        saved = read_cassette(recorder.save(f"busy{round_ % 2}.jsonl")).events
        contiguous_per_thread(saved)
        sizes.append(len(saved))
    stopping.set()
    recorder.stop_recording()
    quit_.set()
    for publisher in publishers:
        publisher.join(timeout=30)
    assert [p.error for p in publishers] == [None] * PUBLISHERS
    assert sizes == sorted(sizes)
    assert sizes[-1] > sizes[0], "the publishers were not running meanwhile"
    contiguous_per_thread(read_cassette(recorder.save("final.json")).events)


# --------------------------------------------------------------------------- replay control


class SlowBus:
    """Counts what the replay publishes, in order."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def publish(self, event_name: str, event: dict[str, int], source: str | None = None) -> None:
        self.seen.append(event["n"])


EVENTS = [RecordedEvent(n * 0.5, "Tick", {"n": n}, "feed") for n in range(2000)]
"""One second at 1x: long enough to steer from other threads."""


def replay_in_thread(
    replayer: EventReplayer, bus: object, **kwargs: object
) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = replayer.replay(bus, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while replayer.state == "idle" and thread.is_alive():
        time.sleep(0.001)
    return thread, outcome


def test_pause_holds_the_replay_and_resume_continues_it() -> None:
    bus = SlowBus()
    replayer = EventReplayer.from_events(EVENTS)
    thread, outcome = replay_in_thread(replayer, bus, speed_multiplier=4.0)
    time.sleep(0.02)
    for _ in range(3):
        replayer.pause()
        assert replayer.state == "paused"
        held = len(bus.seen)
        time.sleep(0.03)  # 240 events' worth at 4x
        assert len(bus.seen) <= held + 1, "events went out while paused"
        replayer.resume()
        time.sleep(0.01)
    thread.join(timeout=30)
    assert "error" not in outcome
    assert bus.seen == list(range(len(EVENTS)))
    assert replayer.state == "finished"


def test_stop_from_another_thread_ends_the_replay_after_a_clean_prefix() -> None:
    bus = SlowBus()
    replayer = EventReplayer.from_events(EVENTS)
    thread, outcome = replay_in_thread(replayer, bus)
    time.sleep(0.05)
    replayer.stop()
    thread.join(timeout=5)
    assert not thread.is_alive(), "stop() did not end the replay"
    result = outcome["result"]
    assert result.stopped  # type: ignore[attr-defined]
    assert 0 < len(bus.seen) < len(EVENTS)
    assert bus.seen == list(range(len(bus.seen)))
    assert replayer.state == "stopped"


@pytest.mark.parametrize("seed", range(3))
def test_threads_hammering_pause_resume_and_stop_never_break_the_replay(seed: int) -> None:
    bus = SlowBus()
    replayer = EventReplayer.from_events(EVENTS)
    thread, outcome = replay_in_thread(replayer, bus, speed_multiplier=8.0)
    errors: list[BaseException] = []
    done = threading.Event()

    def steer(rng: random.Random) -> None:
        try:
            while not done.is_set():
                rng.choice((replayer.pause, replayer.resume, replayer.resume))()
                time.sleep(rng.uniform(0, 0.002))
        except BaseException as exc:
            errors.append(exc)

    steerers = [
        threading.Thread(target=steer, args=(random.Random(seed * 10 + n),)) for n in range(4)
    ]
    for steerer in steerers:
        steerer.start()
    time.sleep(0.1)
    replayer.stop()
    done.set()
    for steerer in steerers:
        steerer.join(timeout=5)
    thread.join(timeout=5)
    assert not thread.is_alive(), "the replay hung"
    assert errors == []
    assert "error" not in outcome
    assert bus.seen == list(range(len(bus.seen)))
    assert replayer.state in ("stopped", "finished")


def test_an_async_replay_is_paused_and_stopped_from_other_threads() -> None:
    seen: list[int] = []

    class AsyncBus:
        async def publish(self, event_name: str, event: dict[str, int], source: str | None) -> None:
            seen.append(event["n"])

    replayer = EventReplayer.from_events(EVENTS)

    def steer() -> None:
        while replayer.state == "idle":
            time.sleep(0.001)
        time.sleep(0.02)
        replayer.pause()
        held = len(seen)
        time.sleep(0.05)
        assert len(seen) <= held + 1
        replayer.resume()
        time.sleep(0.02)
        replayer.stop()

    steerer = threading.Thread(target=steer)
    steerer.start()
    result = asyncio.run(asyncio.wait_for(replayer.replay_async(AsyncBus(), 4.0), 30))
    steerer.join(timeout=5)
    assert result.stopped
    assert seen == list(range(len(seen)))
    assert 0 < len(seen) < len(EVENTS)


# --------------------------------------------------------------------------- pytest -n 4

INNER_BUS = """
    class ServiceBus:
        def __init__(self):
            self.handlers = {}

        def subscribe(self, name, handler):
            self.handlers.setdefault(name, []).append(handler)

        def publish(self, event_name, event, source=None):
            for handler in list(self.handlers.get(event_name, [])):
                handler(event)


    def live_feed(bus, n):
        with open("live_calls.txt", "a") as out:
            out.write("live\\n")
        for i, price in enumerate((101.0, 99.0, 98.5, 102.0, n)):
            bus.publish("PriceTick", {"price": price, "i": i}, "feed")
"""

INNER_CONFTEST = """
    import pytest
    from innerbus import ServiceBus


    @pytest.fixture
    def service_bus():
        bus = ServiceBus()
        orders = []

        def on_tick(tick):
            if tick["price"] < 100:
                orders.append(tick)
                bus.publish("OrderPlaced", {"price": tick["price"]}, "bot")

        bus.subscribe("PriceTick", on_tick)
        bus.orders = orders
        return bus
"""

INNER_TESTS = """
    import pytest
    from innerbus import live_feed


    @pytest.mark.parametrize("n", range(16))
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_own_cassette(service_bus, event_cassette, n):
        event_cassette.play(live=lambda: live_feed(service_bus, 500 + n))
        assert len(service_bus.orders) == 2


    @pytest.mark.parametrize("n", range(8))
    @pytest.mark.event_cassette("shared.json", inputs=["PriceTick"])
    def test_one_shared_cassette(service_bus, event_cassette, n):
        event_cassette.play(live=lambda: live_feed(service_bus, 500))
        assert len(service_bus.orders) == 2
"""

QUIET = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest")
QUIET += ("-p", "no:benchmark", "-p", "no:anyio")
"""Plugins each xdist worker need not import (seconds per worker)."""


def run_n4(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    result = pytester.runpytest_subprocess(*QUIET, "-n", "4", *args, timeout=300)
    result.stdout.fnmatch_lines(["*4 workers*"])
    return result


def live_calls(folder: Path) -> int:
    path = folder / "live_calls.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def check_cassettes(folder: Path) -> list[Path]:
    """Every cassette in the folder reads whole; no temporary file is left behind."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert [p.name for p in files if p.name.startswith(".")] == []
    for path in files:
        events = read_cassette(path).events
        assert [e.event_name for e in events].count("PriceTick") == 5
    return files


def test_xdist_workers_record_and_replay_one_cassette_folder(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(
        innerbus=textwrap.dedent(INNER_BUS),
        conftest=textwrap.dedent(INNER_CONFTEST),
        test_inner=textwrap.dedent(INNER_TESTS),
    )
    cassettes = pytester.path / "cassettes"

    run_n4(pytester).assert_outcomes(passed=24)  # 4 workers record at once
    files = check_cassettes(cassettes)
    assert len(files) == 17  # 16 own + 1 shared
    recorded_live = live_calls(pytester.path)
    assert 17 <= recorded_live <= 24  # the shared one: whoever came first recorded

    own = sorted(p for p in files if p.name != "shared.json")
    for path in own[::2]:
        path.unlink()
    run_n4(pytester).assert_outcomes(passed=24)  # half record, half replay, same folder
    assert live_calls(pytester.path) == recorded_live + len(own[::2])
    assert len(check_cassettes(cassettes)) == 17

    run_n4(pytester, "--record-mode=all").assert_outcomes(passed=24)  # all re-record at once
    assert len(check_cassettes(cassettes)) == 17


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_a_dict_changed_by_another_thread_is_recorded_as_one_state_of_it(nested: bool) -> None:
    """Keys and values are taken in one step: a recorded event never pairs a key with the
    value of another, and is never lost to "dictionary changed size during iteration".
    Here every key's value is the key itself (in a list, when nested), in every state."""

    def value(key: str) -> object:
        return [key] if nested else key

    shared = {f"k{i}": value(f"k{i}") for i in range(4)}
    done = threading.Event()

    def mutate() -> None:
        step = 0
        while not done.is_set():
            step += 1
            del shared[next(iter(shared))]
            shared[f"n{step}"] = value(f"n{step}")

    bus, mutator = Bus(), threading.Thread(target=mutate, daemon=True)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        with EventRecorder("racing dict") as recorder:
            recorder.start_recording(bus)
            mutator.start()
            for _ in range(20_000):
                bus.publish("Shared", shared)
    finally:
        done.set()
        mutator.join()
        sys.setswitchinterval(previous)
    recorded = [e.event_data for e in recorder.events]
    assert len(recorded) == 20_000
    assert all(isinstance(d, dict) and all(value(k) == v for k, v in d.items()) for d in recorded)
