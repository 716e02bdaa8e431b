"""EventRecorder: captures every publish, changes nothing the caller sees, loses nothing."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import (
    CassetteError,
    EventRecorder,
    EventStream,
    RecordedEvent,
    iter_events,
    read_cassette,
    read_header,
)
from pytest_eventrecorder import recorder as recorder_module


@dataclasses.dataclass
class MarketDataReceived:
    symbol: str
    price: float
    volume: float


def test_records_name_data_source_and_type(bus: ServiceBus) -> None:
    recorder = EventRecorder("session")
    recorder.start_recording(bus)
    bus.publish("MarketDataReceived", MarketDataReceived("BTC/USDT", 67500.0, 1.5), "Agent")
    bus.publish("Plain", {"a": 1})
    events = recorder.stop_recording()
    assert recorder.event_count == 2
    assert [(e.event_name, e.event_data, e.source) for e in events] == [
        ("MarketDataReceived", {"symbol": "BTC/USDT", "price": 67500.0, "volume": 1.5}, "Agent"),
        ("Plain", {"a": 1}, None),
    ]
    assert events[0].event_type == f"{__name__}:MarketDataReceived"
    assert events[1].event_type is None
    assert recorder.events == events


def test_publish_return_value_and_subscribers_are_unchanged(bus: ServiceBus) -> None:
    seen: list[Any] = []
    bus.subscribe("E", seen.append)
    event = MarketDataReceived("X", 1.0, 1.0)
    with EventRecorder("s") as recorder:
        recorder.start_recording(bus)
        assert bus.publish("E", event, "src") == "delivered E"
    assert seen == [event]
    assert seen[0] is event  # subscribers get the very object, not a copy


def test_publish_exceptions_pass_through_unchanged(bus: ServiceBus) -> None:
    boom = ValueError("subscriber failed")

    def fail(_: object) -> None:
        raise boom

    bus.subscribe("E", fail)
    with EventRecorder("s") as recorder:
        recorder.start_recording(bus)
        with pytest.raises(ValueError, match="subscriber failed") as caught:
            bus.publish("E", {"x": 1})
        assert caught.value is boom
        with pytest.raises(TypeError):
            bus.publish()  # type: ignore[call-arg]
    assert [e.event_name for e in recorder.events] == ["E"]  # the attempt is recorded


def test_stop_restores_the_bus_exactly(bus: ServiceBus) -> None:
    class_publish = type(bus).publish
    other = ServiceBus()
    recorder = EventRecorder("s")
    recorder.start_recording(bus)
    assert "publish" in vars(bus)  # an instance attribute: other buses are untouched
    assert "publish" not in vars(other)
    recorder.stop_recording()
    assert "publish" not in vars(bus)
    assert type(bus).publish is class_publish
    bus.publish("after", {})
    assert recorder.events == []


def test_stop_restores_an_instance_attribute_that_was_there(bus: ServiceBus) -> None:
    def custom(event_name: str, event: object, source: str | None = None) -> str:
        return "custom"

    bus.publish = custom  # type: ignore[method-assign]
    recorder = EventRecorder("s")
    recorder.start_recording(bus)
    assert bus.publish("E", {}) == "custom"
    recorder.stop_recording()
    assert vars(bus)["publish"] is custom


def test_context_manager_stops_on_exit_even_after_an_error(bus: ServiceBus) -> None:
    recorder = EventRecorder("s")

    def bot_run() -> None:
        with recorder:
            recorder.start_recording(bus)
            bus.publish("E", {})
            raise RuntimeError("bot crashed")

    with pytest.raises(RuntimeError, match="bot crashed"):
        bot_run()
    assert not recorder.is_recording
    assert "publish" not in vars(bus)
    assert len(recorder.events) == 1


def test_a_later_mutation_does_not_change_the_recording(bus: ServiceBus) -> None:
    event = MarketDataReceived("BTC", 1.0, 1.0)
    payload = {"prices": [1.0], "order": {"id": 1}}
    with EventRecorder("s") as recorder:
        recorder.start_recording(bus)
        bus.publish("A", event)
        bus.publish("B", payload)
        event.price = 99.0
        payload["prices"].append(2.0)  # type: ignore[attr-defined]
        payload["order"]["id"] = 2  # type: ignore[index]
    assert recorder.events[0].event_data["price"] == 1.0
    assert recorder.events[1].event_data == {"prices": [1.0], "order": {"id": 1}}


def test_many_threads_lose_nothing_and_keep_each_threads_order(bus: ServiceBus) -> None:
    threads, per_thread = 8, 400
    start = threading.Barrier(threads)

    def publisher(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            bus.publish("Tick", {"thread": t, "seq": i}, f"t{t}")

    with EventRecorder("threads") as recorder:
        recorder.start_recording(bus)
        workers = [threading.Thread(target=publisher, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    events = recorder.events
    assert len(events) == threads * per_thread
    for t in range(threads):
        assert [e.event_data["seq"] for e in events if e.source == f"t{t}"] == list(
            range(per_thread)
        )
    offsets = [e.timestamp_offset_ms for e in events]
    assert offsets == sorted(offsets)  # file order and time order agree


def test_offsets_come_from_the_monotonic_ns_clock(
    bus: ServiceBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter([5_000_000_000, 5_000_000_000 + 1_234_567, 5_000_000_000 + 2_500_000_001])
    clock = time.perf_counter_ns
    monkeypatch.setattr(recorder_module, "perf_counter_ns", lambda: next(ticks, clock()))
    recorder = EventRecorder("clock")
    recorder.start_recording(bus)
    bus.publish("A", {})
    bus.publish("B", {})
    monkeypatch.undo()
    recorder.stop_recording()
    assert [e.timestamp_offset_ms for e in recorder.events] == [1.234567, 2500.000001]


def test_start_time_is_wall_clock_utc_iso(bus: ServiceBus) -> None:
    before = datetime.now(timezone.utc)
    with EventRecorder("wall") as recorder:
        recorder.start_recording(bus)
    start = recorder.to_cassette().header.start_time
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", start)
    parsed = datetime.fromisoformat(start.replace("Z", "+00:00"))
    assert abs((parsed - before).total_seconds()) < 5


def test_save_uses_the_seed_default_name(bus: ServiceBus, tmp_path: Path) -> None:
    with EventRecorder("bull run/2025", tmp_path / "recordings") as recorder:
        recorder.start_recording(bus)
        bus.publish("A", {"x": 1})
        path = recorder.save()
    assert path.parent == tmp_path / "recordings"
    assert re.fullmatch(r"bull_run_2025_\d{8}_\d{6}\.json", path.name)
    cassette = read_cassette(path)
    assert cassette.header.session_name == "bull run/2025"
    assert cassette.header.total_events == 1


def _stamped(recorder: EventRecorder) -> EventRecorder:
    """The default name frozen at one second, as two saves within a second see it."""
    recorder.default_filename = lambda: "bull_run_20250101_120000.json"  # type: ignore[method-assign]
    return recorder


@pytest.mark.parametrize("keep_events", [True, False])
def test_default_names_never_overwrite_each_other(tmp_path: Path, keep_events: bool) -> None:
    paths = []
    for i in range(3):
        stream = None if keep_events else tmp_path / f"live{i}.jsonl"
        recorder = _stamped(
            EventRecorder("bull_run", tmp_path, stream_to=stream, keep_events=keep_events)
        )
        recorder.start_recording()
        recorder.record("Tick", {"i": i})
        recorder.stop_recording()
        paths.append(recorder.save())
    names = ["bull_run_20250101_120000.json", "bull_run_20250101_120000_2.json"]
    assert [p.name for p in paths] == [*names, "bull_run_20250101_120000_3.json"]
    assert [read_cassette(p).events[0].event_data for p in paths] == [{"i": i} for i in range(3)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no drafts left


def test_default_names_stay_unique_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")  # FAT, some network shares

    monkeypatch.setattr(recorder_module.os, "link", no_link)
    paths = []
    for i in range(2):
        recorder = _stamped(EventRecorder("bull_run", tmp_path))
        recorder.start_recording()
        recorder.record("Tick", {"i": i})
        paths.append(recorder.save())
    assert [p.name for p in paths] == [
        "bull_run_20250101_120000.json",
        "bull_run_20250101_120000_2.json",
    ]
    assert [read_cassette(p).events[0].event_data for p in paths] == [{"i": 0}, {"i": 1}]


def test_an_explicit_name_is_still_overwritten(tmp_path: Path) -> None:
    for i in range(2):
        recorder = EventRecorder("s", tmp_path)
        recorder.start_recording()
        recorder.record("Tick", {"i": i})
        assert recorder.save("same.json") == tmp_path / "same.json"
    assert read_cassette(tmp_path / "same.json").events[0].event_data == {"i": 1}


def test_processes_saving_default_names_at_once_keep_every_file(tmp_path: Path) -> None:
    """Real processes racing for one default name: each save lands in a file of its own."""
    child = textwrap.dedent(
        """
        import sys
        from pytest_eventrecorder import EventRecorder
        for i in range(10):
            recorder = EventRecorder("bull_run", sys.argv[1])
            recorder.default_filename = lambda: "bull_run_20250101_120000.json"
            recorder.start_recording()
            recorder.record("Tick", {"who": sys.argv[2], "i": i})
            recorder.save()
        """
    )
    children = [
        subprocess.Popen([sys.executable, "-c", child, str(tmp_path), str(who)])
        for who in range(4)
    ]
    assert [c.wait(timeout=120) for c in children] == [0] * 4
    saved = sorted(tmp_path.iterdir())
    assert len(saved) == 40
    data = {(e["who"], e["i"]) for p in saved for e in [read_cassette(p).events[0].event_data]}
    assert data == {(str(w), i) for w in range(4) for i in range(10)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("x.yaml", "x.yaml"), ("x.jsonl.gz", "x.jsonl.gz"), ("plain", "plain.json")],
)
def test_save_suffix_picks_the_format(
    bus: ServiceBus, tmp_path: Path, name: str, expected: str
) -> None:
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording(bus)
    bus.publish("A", {"x": 1})
    recorder.stop_recording()
    path = recorder.save(name)
    assert path == tmp_path / expected
    assert [e.event_name for e in read_cassette(path).events] == ["A"]


def test_save_absolute_path_and_bad_suffix(bus: ServiceBus, tmp_path: Path) -> None:
    recorder = EventRecorder("s", tmp_path / "unused")
    recorder.start_recording(bus)
    recorder.stop_recording()
    target = tmp_path / "elsewhere" / "r.yml"
    assert recorder.save(target) == target
    with pytest.raises(CassetteError, match="unknown cassette format"):
        recorder.save("r.txt")


def test_saved_duration_covers_the_session(bus: ServiceBus, tmp_path: Path) -> None:
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording(bus)
    bus.publish("A", {})
    time.sleep(0.02)
    recorder.stop_recording()
    header = read_cassette(recorder.save("d.json")).header
    assert header.duration_ms >= 20
    assert header.duration_ms >= recorder.events[-1].timestamp_offset_ms


def test_manual_record_with_metadata_and_idle_record() -> None:
    recorder = EventRecorder("manual")
    assert recorder.record("Ignored", {}) is None  # not recording yet
    recorder.start_recording()
    event = recorder.record("Order", {"id": 1}, source=42, metadata={"trace": b"\x01"})  # type: ignore[arg-type]
    assert event is not None
    assert event.source == "42"
    assert event.metadata == {"trace": {"__bytes__": "AQ=="}}
    recorder.stop_recording()
    assert recorder.events == [event]


NESTED_EVENTS: list[object] = [
    {"order": {"id": 1}, "items": [1, 2], "tags": {"a"}},  # a set: taken by the walk
    {"order": {"id": 1}, "items": [1, 2]},  # kept encoded, with the [fast] extra
    {"id": 1, "qty": 2},  # flat: kept packed
]


@pytest.mark.parametrize(
    "options",
    [{}, {"stream": True}, {"before_record": lambda event: True}],
    ids=["in memory", "streamed", "hooked"],
)
@pytest.mark.parametrize("event", NESTED_EVENTS, ids=["walked", "nested", "flat"])
def test_the_event_record_returns_shares_nothing_with_the_recording(
    tmp_path: Path, options: dict[str, Any], event: dict[str, Any]
) -> None:
    stream = tmp_path / "live.jsonl" if options.pop("stream", False) else None
    with EventRecorder("s", tmp_path, stream_to=stream, **options) as recorder:
        recorder.start_recording()
        returned = recorder.record("Order", event, metadata={"trace": {"span": [1]}})
        assert returned is not None
        kept = copy.deepcopy(recorder.events[0].to_dict())
        data = cast(dict[str, Any], returned.event_data)
        for value in list(data.values()):
            if isinstance(value, dict):
                value["changed"] = True
            elif isinstance(value, list):
                value.append("changed")
        data["added"] = True
        cast(dict[str, Any], returned.metadata)["trace"]["span"].append(2)
        assert recorder.events[0].to_dict() == kept
        assert returned.event_data != kept["event_data"]


def test_before_record_can_drop_and_change_events(bus: ServiceBus) -> None:
    def redact(event: RecordedEvent) -> RecordedEvent | None:
        if event.event_name == "Heartbeat":
            return None
        return dataclasses.replace(event, event_data={**event.event_data, "secret": "***"})

    with EventRecorder("s", before_record=redact) as recorder:
        recorder.start_recording(bus)
        bus.publish("Heartbeat", {})
        bus.publish("Login", {"user": "a", "secret": "hunter2"})
    assert [e.event_data for e in recorder.events] == [{"user": "a", "secret": "***"}]


def test_a_failing_before_record_drops_the_event_it_may_have_redacted(
    bus: ServiceBus, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: RecordedEvent) -> RecordedEvent:
        raise KeyError("oops")

    with EventRecorder("s", before_record=broken) as recorder:
        recorder.start_recording(bus)
        assert bus.publish("E", {"secret": "hunter2"}) == "delivered E"
    assert recorder.events == []
    assert "before_record hook failed; the event is left out" in caplog.text


def test_before_record_may_answer_true_or_false(bus: ServiceBus) -> None:
    with EventRecorder("s", before_record=lambda e: e.event_name != "Noise") as recorder:
        recorder.start_recording(bus)
        for name in ("Keep", "Noise", "Keep"):
            bus.publish(name, {})
    assert [e.event_name for e in recorder.events] == ["Keep", "Keep"]


def test_a_before_record_answer_of_another_kind_drops_the_event(
    bus: ServiceBus, caplog: pytest.LogCaptureFixture
) -> None:
    with EventRecorder("s", before_record=lambda e: e.event_data) as recorder:  # type: ignore[arg-type,return-value]
        recorder.start_recording(bus)
        bus.publish("E", {"secret": "hunter2"})
    assert recorder.events == []
    assert "before_record returned dict; it must return a RecordedEvent" in caplog.text


def test_record_never_raises_into_the_publisher(caplog: pytest.LogCaptureFixture) -> None:
    class BadName:
        def __str__(self) -> str:
            raise RuntimeError("no name")

        def __repr__(self) -> str:
            return "<BadName>"

    recorder = EventRecorder("s")
    recorder.start_recording()
    assert recorder.record(BadName(), {"x": 1}) is None  # type: ignore[arg-type]
    assert recorder.record("Fine", {}) is not None
    recorder.stop_recording()
    assert [e.event_name for e in recorder.events] == ["Fine"]
    assert "could not record event <BadName>" in caplog.text


def test_status_goes_to_logging_not_stdout(
    bus: ServiceBus,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO, logger="pytest_eventrecorder")
    with EventRecorder("logged", tmp_path) as recorder:
        recorder.start_recording(bus)
        bus.publish("E", {})
        recorder.save("l.json")
    assert capsys.readouterr() == ("", "")
    messages = [r.getMessage() for r in caplog.records if r.name == "pytest_eventrecorder"]
    assert any("Recording 'logged'" in m for m in messages)
    assert any("Saved 1 events" in m for m in messages)


def test_two_buses_one_session() -> None:
    market, orders = ServiceBus(), ServiceBus()
    with EventRecorder("both") as recorder:
        recorder.start_recording(market)
        recorder.start_recording(orders)
        market.publish("Price", {})
        orders.publish("Order", {})
    assert [e.event_name for e in recorder.events] == ["Price", "Order"]
    assert "publish" not in vars(market)
    assert "publish" not in vars(orders)


def test_an_object_that_is_not_a_bus_is_refused_and_nothing_starts() -> None:
    recorder = EventRecorder("s")
    with pytest.raises(TypeError, match="no adapter knows how to attach"):
        recorder.start_recording(object())
    assert not recorder.is_recording


def test_restart_begins_a_new_session(bus: ServiceBus) -> None:
    recorder = EventRecorder("s")
    recorder.start_recording(bus)
    bus.publish("First", {})
    recorder.stop_recording()
    recorder.start_recording(bus)
    bus.publish("Second", {})
    recorder.stop_recording()
    assert [e.event_name for e in recorder.events] == ["Second"]


def test_async_bus_publish_is_recorded_and_awaited() -> None:
    class AsyncBus:
        async def publish(self, event_name: str, event: object, source: str | None = None) -> str:
            await asyncio.sleep(0)
            return f"async {event_name}"

    bus = AsyncBus()
    with EventRecorder("async") as recorder:
        recorder.start_recording(bus)
        assert asyncio.run(bus.publish("E", {"x": 1})) == "async E"
    assert [e.event_name for e in recorder.events] == ["E"]


def test_bad_arguments_are_refused_early(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="session_name"):
        EventRecorder("  ")
    with pytest.raises(CassetteError, match="unknown cassette format"):
        EventRecorder("s", stream_to=tmp_path / "live.txt")


# --------------------------------------------------------------------------- stream_to


def test_stream_to_has_each_event_on_disk_before_publish_returns(
    bus: ServiceBus, tmp_path: Path
) -> None:
    live = tmp_path / "live.jsonl"
    on_disk: list[list[str]] = []
    bus.subscribe("E", lambda _: on_disk.append([e.event_name for e in iter_events(live)]))
    with EventRecorder("live", stream_to=live) as recorder:
        recorder.start_recording(bus)
        bus.publish("E", {"i": 0})
        bus.publish("E", {"i": 1})
    assert on_disk == [["E"], ["E", "E"]]
    assert read_header(live).total_events == 2  # the header is finalized on stop


CHILD = """
import os, signal, sys
from pytest_eventrecorder import EventRecorder

class ServiceBus:
    def publish(self, event_name, event, source=None):
        return None

bus = ServiceBus()
recorder = EventRecorder("crash", stream_to=sys.argv[1])
recorder.start_recording(bus)
for i in range(int(sys.argv[2])):
    bus.publish("OrderPlaced", {"seq": i, "note": "✓"}, "bot")
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_stream_to_survives_sigkill(tmp_path: Path, suffix: str) -> None:
    live = tmp_path / f"crash{suffix}"
    n = 250
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    done = subprocess.run(
        [sys.executable, str(script), str(live), str(n)], capture_output=True, timeout=60
    )
    assert done.returncode == -9, done.stderr.decode()
    events = list(iter_events(live))
    assert [e.event_data["seq"] for e in events] == list(range(n))
    assert read_header(live).session_name == "crash"


# --------------------------------------------------------------------------- keep_events=False


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_events_may_live_only_in_the_stream_file(
    bus: ServiceBus, tmp_path: Path, suffix: str
) -> None:
    live = tmp_path / f"live{suffix}"
    with EventRecorder("lean", tmp_path, stream_to=live, keep_events=False) as recorder:
        recorder.start_recording(bus)
        for i in range(1000):
            bus.publish("Tick", {"n": i}, "feed")
        assert recorder._events == []  # nothing held in memory
        assert recorder.event_count == 1000
    assert [e.event_data["n"] for e in recorder.events] == list(range(1000))
    assert len(recorder.to_cassette().events) == 1000
    for name in ("lean.json", "lean.jsonl.gz"):
        saved = read_cassette(recorder.save(name))
        assert saved.header.total_events == 1000
        assert [e.event_data for e in saved.events] == [{"n": i} for i in range(1000)]


def test_a_stream_failing_with_keep_events_off_keeps_the_rest_in_memory(
    bus: ServiceBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is lost: what reached the file is read back, the rest was kept in memory."""
    appended = EventStream.append
    calls = iter(range(10_000))

    def disk_fills_up(stream: EventStream, event: RecordedEvent) -> None:
        if next(calls) >= 5:
            raise OSError(28, "No space left on device")
        appended(stream, event)

    monkeypatch.setattr(EventStream, "append", disk_fills_up)
    live = tmp_path / "live.jsonl"
    with EventRecorder("full", tmp_path, stream_to=live, keep_events=False) as recorder:
        recorder.start_recording(bus)
        for i in range(12):
            bus.publish("Tick", {"n": i}, "feed")
    assert recorder.stream_error is not None
    assert [e.event_data["n"] for e in recorder.events] == list(range(12))
    monkeypatch.undo()
    saved = read_cassette(recorder.save("all.json"))
    assert [e.event_data["n"] for e in saved.events] == list(range(12))


def test_halt_stops_without_reading_the_events_back(
    bus: ServiceBus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "iter_events", lambda path: pytest.fail("read back"))
    halted = EventRecorder("lean", tmp_path, stream_to=tmp_path / "a.jsonl", keep_events=False)
    halted.start_recording(bus)
    bus.publish("Tick", {"n": 1})
    halted.halt()
    with EventRecorder("lean", tmp_path, stream_to=tmp_path / "b.jsonl", keep_events=False) as left:
        left.start_recording(bus)
        bus.publish("Tick", {"n": 2})
    monkeypatch.undo()  # leaving the block halted it: nothing was read back there either
    assert not halted.is_recording
    assert not left.is_recording
    for name, n in (("a.jsonl", 1), ("b.jsonl", 2)):
        assert [e.event_data for e in read_cassette(tmp_path / name).events] == [{"n": n}]


def test_keep_events_off_needs_a_stream(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="keep_events=False needs stream_to"):
        EventRecorder("s", tmp_path, keep_events=False)


def test_metadata_made_for_the_event_alone_is_kept_without_a_snapshot(tmp_path: Path) -> None:
    """``fresh=True``: the caller made the metadata for this one event, as plain data (the
    plugin's ``caused_by``): it is kept as it is, and no one else holds it."""
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording()
    made = {"caused_by": 3}
    entry = recorder._keep("A", {"x": 1}, "s", made, fresh=True)
    assert isinstance(entry, tuple)
    assert entry[5] is made
    assert recorder.stop_recording()[0].metadata == {"caused_by": 3}


def _fields(events: list[RecordedEvent]) -> list[tuple[object, ...]]:
    return [(e.event_name, e.source, e.event_data, e.metadata) for e in events]


def test_kept_fields_are_the_events_fields_without_building_them(
    bus: ServiceBus, tmp_path: Path
) -> None:
    """What verification reads of each event, in order, before and after they are built."""
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording(bus)
    bus.publish("A", {"x": 1, "deep": {"y": [1, 2]}}, "feed")
    bus.publish("B", MarketDataReceived("BTC", 1.0, 2.0))
    recorder.record("C", 3, "hand", {"note": "n"})
    kept = recorder.kept_fields()
    assert recorder._built == 0  # nothing was built for them
    bus.publish("D", [1, 2], "feed")
    bus.publish("E", {1, 2}, "feed")  # walked, not encoded: kept with its class
    recorder.halt()
    built = _fields(recorder.events)
    assert kept == built[:3]
    assert recorder.kept_fields() == built


def test_kept_fields_of_only_encoded_events(bus: ServiceBus, tmp_path: Path) -> None:
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording(bus)
    for n in range(3):
        bus.publish("A", {"n": n, "password": "x"}, "feed")
    recorder.halt()
    assert recorder.kept_fields() == _fields(recorder.events)


def test_kept_fields_are_none_when_events_must_be_put_in_clock_order(tmp_path: Path) -> None:
    """Threads append without a lock: entries out of clock order are left to ``events``."""
    recorder = EventRecorder("s", tmp_path)
    recorder.start_recording()
    recorder._keep("A", {"x": 1}, received_ns=recorder._start_ns + 2_000)
    recorder._keep("B", {"x": 2}, received_ns=recorder._start_ns + 1_000)
    assert recorder.kept_fields() is None
    assert [e.event_name for e in recorder.events] == ["B", "A"]


def test_kept_fields_are_none_for_events_only_in_the_stream_file(
    bus: ServiceBus, tmp_path: Path
) -> None:
    recorder = EventRecorder("s", tmp_path, stream_to=tmp_path / "s.jsonl", keep_events=False)
    recorder.start_recording(bus)
    bus.publish("A", {"x": 1}, "feed")
    assert recorder.kept_fields() is None
    recorder.halt()
