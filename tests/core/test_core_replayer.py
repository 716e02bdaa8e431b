"""EventReplayer: absolute deadlines, filters, errors, control from other threads, analysis."""

from __future__ import annotations

import asyncio
import io
import math
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from core_helpers import ServiceBus, make_events

from pytest_eventrecorder import (
    Cassette,
    CassetteError,
    EventReplayer,
    RealClock,
    RecordedEvent,
    VirtualClock,
    write_cassette,
)

MS = 1_000_000


def replayer_of(*offsets: float, clock: VirtualClock | None = None) -> EventReplayer:
    return EventReplayer(
        Cassette.build("t", make_events(*offsets), start_time="2025-10-17T10:00:00.000Z"),
        clock=clock or VirtualClock(),
    )


def trading_events() -> list[RecordedEvent]:
    return [
        RecordedEvent(0, "MarketDataReceived", {"price": 1}, "MarketDataAgent"),
        RecordedEvent(5, "OrderFailed", {"id": 1}, "TradingBot"),
        RecordedEvent(10, "MarketDataReceived", {"price": 2}, "MarketDataAgent"),
        RecordedEvent(15, "PositionOpened", {"id": 2}, "TradingBot"),
        RecordedEvent(20, "MarketDataReceived", {"price": 3}, "MarketDataAgent"),
        RecordedEvent(25, "RiskError", {"id": 3}, "RiskAgent"),
    ]


# --------------------------------------------------------------------------- scheduling


def test_deadlines_are_anchor_plus_offset_over_speed() -> None:
    clock = VirtualClock(start_ns=1_000)
    replayer_of(0, 10, 25, clock=clock).replay(ServiceBus(), speed_multiplier=2.0)
    assert clock.sleeps == [1_000, 1_000 + 5 * MS, 1_000 + 12_500_000]


def test_float_offsets_schedule_to_the_nanosecond() -> None:
    clock = VirtualClock()
    replayer_of(0.0005, 1.25, clock=clock).replay(ServiceBus(), speed_multiplier=0.5)
    assert clock.sleeps == [1_000, 2_500_000]


def test_late_publishes_do_not_push_later_deadlines() -> None:
    clock = VirtualClock()
    bus = ServiceBus()
    bus.subscribe("Tick", lambda _: clock.advance(7 * MS))  # each delivery runs long
    replayer_of(0, 10, 20, 30, clock=clock).replay(bus)
    assert clock.sleeps == [0, 10 * MS, 20 * MS, 30 * MS]  # no drift adds up


@pytest.mark.parametrize("speed", [0, -1.0, math.nan, -math.inf, "fast", None, True])
def test_bad_speeds_are_value_errors(speed: Any) -> None:
    with pytest.raises(ValueError, match="speed_multiplier must be a positive number"):
        replayer_of(0).replay(ServiceBus(), speed_multiplier=speed)


def test_infinite_speed_never_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sleeping(*args: object) -> None:
        raise AssertionError("an instant replay must not sleep")

    monkeypatch.setattr(RealClock, "sleep_until", no_sleeping)
    replayer = EventReplayer(Cassette.build("slow", make_events(0, 3_600_000, 7_200_000)))
    bus = ServiceBus()
    result = replayer.replay(bus, speed_multiplier=math.inf)
    assert result.published == 3
    assert [e["seq"] for _, e, _ in bus.published] == [0, 1, 2]


def test_start_at_ms_skips_earlier_events_and_starts_the_schedule_there() -> None:
    clock = VirtualClock()
    bus = ServiceBus()
    result = replayer_of(0, 10, 20, 30, clock=clock).replay(bus, start_at_ms=15)
    assert [e["seq"] for _, e, _ in bus.published] == [2, 3]
    assert clock.sleeps == [5 * MS, 15 * MS]
    assert result.total == 2


@pytest.mark.parametrize("start", [-1, math.nan, math.inf, "10"])
def test_bad_start_at_ms_is_a_value_error(start: Any) -> None:
    with pytest.raises(ValueError, match="start_at_ms"):
        replayer_of(0).replay(ServiceBus(), start_at_ms=start)


# --------------------------------------------------------------------------- what is published


def test_publishes_recorded_name_source_and_data() -> None:
    bus = ServiceBus()
    replayer = EventReplayer.from_events(trading_events(), "trading")
    replayer.clock = VirtualClock()
    result = replayer.replay(bus)
    assert bus.published == [(e.event_name, e.event_data, e.source) for e in trading_events()]
    assert (result.published, result.total, result.stopped, result.errors) == (6, 6, False, [])
    assert replayer.state == "finished"
    assert replayer.position == 6
    assert replayer.current_offset_ms == 25


def test_event_filter_where_and_progress_end_at_total() -> None:
    replayer = EventReplayer.from_events(trading_events())
    replayer.clock = VirtualClock()
    bus, progress = ServiceBus(), []
    replayer.replay(
        bus,
        event_filter=lambda name: name.startswith("MarketData"),
        where=lambda event: event.event_data["price"] > 1,
        progress_callback=lambda current, total: progress.append((current, total)),
    )
    assert [e["price"] for _, e, _ in bus.published] == [2, 3]
    assert progress == [(1, 2), (2, 2)]


def test_filters_are_called_once_per_event() -> None:
    calls: list[str] = []
    replayer = EventReplayer.from_events(trading_events())
    replayer.clock = VirtualClock()
    replayer.replay(ServiceBus(), event_filter=lambda name: calls.append(name) is None)
    assert len(calls) == 6


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".json", ".yaml"])
def test_file_replays_match_in_memory_replays(tmp_path: Path, suffix: str) -> None:
    events = [*trading_events(), RecordedEvent(30, "Blob", {"raw": {"__bytes__": "AAE="}})]
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", events))
    replayer = EventReplayer(path, clock=VirtualClock())
    bus, progress = ServiceBus(), []
    replayer.replay(bus, progress_callback=lambda c, t: progress.append((c, t)))
    assert [name for name, _, _ in bus.published] == [e.event_name for e in events]
    assert bus.published[-1][1] == {"raw": b"\x00\x01"}
    assert progress[-1] == (7, 7)
    assert len(replayer) == 7


def test_a_mutating_subscriber_cannot_change_the_next_replay() -> None:
    replayer = replayer_of(0, 1)
    bus = ServiceBus()
    bus.subscribe("Tick", lambda data: data.update(seq=99))
    replayer.replay(bus)
    replayer.replay(bus)
    assert [e.event_data for e in replayer.events] == [{"seq": 0}, {"seq": 1}]


# --------------------------------------------------------------------------- errors


def test_a_subscriber_exception_stops_the_replay_and_propagates() -> None:
    boom = RuntimeError("handler bug")
    bus = ServiceBus()

    def handler(data: dict[str, int]) -> None:
        if data["seq"] == 1:
            raise boom

    bus.subscribe("Tick", handler)
    replayer = replayer_of(0, 1, 2)
    with pytest.raises(RuntimeError) as caught:
        replayer.replay(bus)
    assert caught.value is boom
    assert len(bus.published) == 2
    assert replayer.state == "stopped"


def test_continue_on_error_collects_every_failure() -> None:
    bus = ServiceBus()
    bus.subscribe("OrderFailed", lambda _: 1 / 0)
    bus.subscribe("RiskError", lambda _: [][1])
    replayer = EventReplayer.from_events(trading_events())
    replayer.clock = VirtualClock()
    result = replayer.replay(bus, continue_on_error=True)
    assert result.published == 6
    assert [(e.index, e.event.event_name, type(e.error)) for e in result.errors] == [
        (1, "OrderFailed", ZeroDivisionError),
        (5, "RiskError", IndexError),
    ]
    assert replayer.state == "finished"


def test_a_coroutine_publish_needs_replay_async() -> None:
    class AsyncBus:
        async def publish(self, event_name: str, event: object, source: str | None = None) -> None:
            return None

    with pytest.raises(TypeError, match="replay_async"):
        replayer_of(0).replay(AsyncBus())


def test_replaying_twice_at_once_is_refused() -> None:
    replayer = replayer_of(0, 1)
    errors: list[BaseException] = []
    bus = ServiceBus()

    def nested(_: object) -> None:
        try:
            replayer.replay(ServiceBus())
        except RuntimeError as exc:
            errors.append(exc)

    bus.subscribe("Tick", nested)
    replayer.replay(bus)
    assert len(errors) == 2
    assert "already replaying" in str(errors[0])


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        EventReplayer(tmp_path / "none.json")
    with pytest.raises(FileNotFoundError, match="no recording matches"):
        EventReplayer(tmp_path / "none_*.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(CassetteError, match=r"bad\.json"):
        EventReplayer(tmp_path / "bad.json")


def test_a_glob_picks_the_newest_match(tmp_path: Path) -> None:
    for age, name in [(300, "bug_a.json"), (100, "bug_c.json"), (200, "bug_b.json")]:
        path = write_cassette(tmp_path / name, Cassette.build(name, make_events(0)))
        stamp = 1_700_000_000 - age
        os.utime(path, (stamp, stamp))
    assert EventReplayer(tmp_path / "bug_*.json").path == tmp_path / "bug_c.json"


# --------------------------------------------------------------------------- control


class Handshake:
    """Publishing event ``at`` blocks until the test has acted, then lets the replay go on."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.reached = threading.Event()
        self.release = threading.Event()
        self.bus = ServiceBus()
        self.bus.subscribe("Tick", self._on)

    def _on(self, data: dict[str, int]) -> None:
        if data["seq"] == self.at:
            self.reached.set()
            assert self.release.wait(10)

    def seqs(self) -> list[int]:
        return [e["seq"] for _, e, _ in self.bus.published]


def run_in_thread(replayer: EventReplayer, bus: ServiceBus) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(replayer.replay(bus)))
    thread.start()
    return thread, results


def test_pause_and_resume_from_another_thread_shift_the_schedule() -> None:
    clock = VirtualClock()
    replayer = replayer_of(0, 10, 20, 30, clock=clock)
    hand = Handshake(at=1)
    thread, results = run_in_thread(replayer, hand.bus)
    assert hand.reached.wait(10)
    replayer.pause()
    assert replayer.state == "paused"
    hand.release.set()
    clock.advance(500 * MS)  # time spent paused
    replayer.resume()
    thread.join(10)
    assert hand.seqs() == [0, 1, 2, 3]
    assert clock.sleeps == [0, 10 * MS, 520 * MS, 530 * MS]
    assert results[0].published == 4
    assert replayer.state == "finished"


def test_stop_from_another_thread_ends_before_the_next_event() -> None:
    replayer = replayer_of(0, 10, 20, 30)
    hand = Handshake(at=1)
    thread, results = run_in_thread(replayer, hand.bus)
    assert hand.reached.wait(10)
    replayer.stop()
    hand.release.set()
    thread.join(10)
    assert hand.seqs() == [0, 1]
    assert results[0].stopped
    assert results[0].published == 2
    assert replayer.state == "stopped"


def test_stop_while_paused_ends_the_replay() -> None:
    replayer = replayer_of(0, 10, 20)
    hand = Handshake(at=0)
    thread, results = run_in_thread(replayer, hand.bus)
    assert hand.reached.wait(10)
    replayer.pause()
    hand.release.set()
    replayer.stop()
    thread.join(10)
    assert hand.seqs() == [0]
    assert results[0].stopped


def test_stop_cuts_a_real_wait_short() -> None:
    replayer = EventReplayer(Cassette.build("long", make_events(0, 3_600_000)))
    hand = Handshake(at=0)
    hand.release.set()
    thread, results = run_in_thread(replayer, hand.bus)
    assert hand.reached.wait(10)
    replayer.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert results[0].stopped


def test_pause_resume_during_an_instant_replay() -> None:
    replayer = replayer_of(*range(5))
    hand = Handshake(at=2)
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: results.append(replayer.replay(hand.bus, speed_multiplier=math.inf))
    )
    thread.start()
    assert hand.reached.wait(10)
    replayer.pause()
    hand.release.set()
    replayer.resume()
    thread.join(10)
    assert hand.seqs() == [0, 1, 2, 3, 4]


def test_control_calls_outside_a_replay_do_nothing() -> None:
    replayer = replayer_of(0)
    replayer.pause()
    replayer.resume()
    replayer.stop()
    assert replayer.state == "idle"
    assert replayer.replay(ServiceBus()).published == 1


# --------------------------------------------------------------------------- asyncio


class AsyncServiceBus:
    def __init__(self, fail_on: int | None = None) -> None:
        self.published: list[tuple[str, Any, str | None]] = []
        self.fail_on = fail_on

    async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        await asyncio.sleep(0)
        if event.get("seq") == self.fail_on:
            raise LookupError("async subscriber bug")
        self.published.append((event_name, event, source))


@pytest.mark.asyncio
async def test_replay_async_awaits_coroutine_publishes() -> None:
    clock = VirtualClock()
    bus = AsyncServiceBus()
    progress: list[tuple[int, int]] = []
    result = await replayer_of(0, 10, 20, clock=clock).replay_async(
        bus, speed_multiplier=2, progress_callback=lambda c, t: progress.append((c, t))
    )
    assert [e["seq"] for _, e, _ in bus.published] == [0, 1, 2]
    assert clock.sleeps == [0, 5 * MS, 10 * MS]
    assert progress[-1] == (3, 3)
    assert result.published == 3


@pytest.mark.asyncio
async def test_replay_async_errors_propagate_or_are_collected() -> None:
    with pytest.raises(LookupError, match="async subscriber bug"):
        await replayer_of(0, 1, 2).replay_async(AsyncServiceBus(fail_on=1))
    result = await replayer_of(0, 1, 2).replay_async(
        AsyncServiceBus(fail_on=1), continue_on_error=True
    )
    assert [e.index for e in result.errors] == [1]


@pytest.mark.asyncio
async def test_replay_async_with_a_real_clock_and_a_sync_bus() -> None:
    bus = ServiceBus()
    replayer = EventReplayer(Cassette.build("t", make_events(0, 1, 2)))
    result = await replayer.replay_async(bus, speed_multiplier=math.inf, start_at_ms=1)
    assert [e["seq"] for _, e, _ in bus.published] == [1, 2]
    assert result.published == 2


@pytest.mark.asyncio
async def test_replay_async_stop_from_another_thread() -> None:
    replayer = EventReplayer(Cassette.build("long", make_events(0, 3_600_000)))
    bus = AsyncServiceBus()
    task = asyncio.ensure_future(replayer.replay_async(bus))
    while not bus.published:
        await asyncio.sleep(0.001)
    threading.Thread(target=replayer.stop).start()
    result = await asyncio.wait_for(task, 10)
    assert result.stopped
    assert result.published == 1


# --------------------------------------------------------------------------- analysis


def test_event_summary_is_most_common_first_ties_in_first_seen_order() -> None:
    events = [RecordedEvent(i, n, {}) for i, n in enumerate("BAACBC")]
    replayer = EventReplayer.from_events(events)
    summary = replayer.get_event_summary()
    assert list(summary.items()) == [("B", 2), ("A", 2), ("C", 2)]
    more = EventReplayer.from_events([*events, RecordedEvent(9, "C", {})])
    assert list(more.get_event_summary().items()) == [("C", 3), ("B", 2), ("A", 2)]


def test_print_timeline_shows_offset_name_and_source() -> None:
    replayer = EventReplayer.from_events(trading_events(), "bull_run_2025")
    out = io.StringIO()
    replayer.print_timeline(max_events=2, file=out)
    assert out.getvalue().splitlines() == [
        "Timeline of 'bull_run_2025'",
        "       0.000 ms  MarketDataReceived               MarketDataAgent",
        "       5.000 ms  OrderFailed                      TradingBot",
        "... and 4 more events",
    ]


def test_print_timeline_to_stdout_and_edge_cases(capsys: pytest.CaptureFixture[str]) -> None:
    EventReplayer.from_events([RecordedEvent(1.5, "Solo", {})], "one").print_timeline()
    assert capsys.readouterr().out.splitlines()[1] == (
        "       1.500 ms  Solo                             -"
    )
    EventReplayer.from_events([], "none").print_timeline()
    assert capsys.readouterr().out.splitlines()[1] == "(no events)"
    with pytest.raises(ValueError, match="max_events"):
        EventReplayer.from_events([]).print_timeline(-1)


def test_filter_events_works_in_memory_without_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_cassette(tmp_path / "session.jsonl", Cassette.build("s", trading_events()))
    original = EventReplayer(path, clock=VirtualClock())

    def no_temp_files(*args: object, **kwargs: object) -> None:
        raise AssertionError("filter_events must not write temporary files")

    for name in ("mkstemp", "mkdtemp", "NamedTemporaryFile", "TemporaryDirectory"):
        monkeypatch.setattr(tempfile, name, no_temp_files)
    filtered = original.filter_events(lambda name: "Failed" in name or "Error" in name)
    assert filtered.path is None
    assert [e.event_name for e in filtered] == ["OrderFailed", "RiskError"]
    assert filtered.header.total_events == 2
    assert filtered.clock is original.clock
    by_source = original.filter_events(where=lambda e: e.source == "TradingBot")
    assert [e.event_name for e in by_source] == ["OrderFailed", "PositionOpened"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.jsonl"]


@pytest.mark.parametrize(
    ("offset", "delta", "moved"),
    [
        (60_000.307, -60_000.0, 0.307),  # not 0.3070000000006985
        (1.5, 2.25, 3.75),
        (0.0078125, 1.0, 1.0078125),  # finer than a nanosecond: kept
        (1e-9, 0.0, 1e-9),
    ],
)
def test_a_shifted_offset_drops_the_sums_float_noise_only(
    offset: float, delta: float, moved: float
) -> None:
    assert RecordedEvent(offset, "E", None).shifted(delta).timestamp_offset_ms == moved


def test_slice_rebases_offsets_and_start_time() -> None:
    replayer = EventReplayer(
        Cassette.build("t", trading_events(), start_time="2025-10-17T10:00:00.000Z")
    )
    part = replayer.slice(10, 25)
    assert [(e.timestamp_offset_ms, e.event_name) for e in part] == [
        (0, "MarketDataReceived"),
        (5, "PositionOpened"),
        (10, "MarketDataReceived"),
    ]
    assert part.header.start_time == "2025-10-17T10:00:00.010Z"
    kept = replayer.slice(10, 25, rebase=False)
    assert [e.timestamp_offset_ms for e in kept] == [10, 15, 20]
    assert kept.header.start_time == "2025-10-17T10:00:00.000Z"
    assert [e.event_name for e in replayer.slice(20)] == ["MarketDataReceived", "RiskError"]
    with pytest.raises(ValueError, match="start_ms"):
        replayer.slice(5, 1)


def test_replayer_basics() -> None:
    replayer = EventReplayer.from_events(trading_events(), "basics")
    assert len(replayer) == 6
    assert replayer.session_name == "basics"
    assert list(replayer) == replayer.events == trading_events()
    assert replayer.to_cassette().header.total_events == 6
    assert replayer.state == "idle"
