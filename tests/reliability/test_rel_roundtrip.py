"""Nothing is lost in a file: any event stream survives every format, and filter, slice and
convert (library and CLI) keep exactly what they should."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from rel_support import (
    START,
    SUFFIXES,
    event_lists,
    fuzz,
    header_metadata,
    json_values,
    offsets,
    session_names,
)

from pytest_eventrecorder import (
    Cassette,
    EventRecorder,
    EventReplayer,
    RecordedEvent,
    iter_events,
    read_cassette,
    read_header,
    write_cassette,
)
from pytest_eventrecorder.cassette import shift_iso
from pytest_eventrecorder.cli import main
from pytest_eventrecorder.serialize import NO_REDACTION, snapshot

RUNNER = CliRunner()


@contextmanager
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder per hypothesis example (the function's tmp_path is shared by all)."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        yield Path(folder)


def cli(*args: object) -> Result:
    result = RUNNER.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def same_header(a: Cassette, b: Cassette) -> None:
    assert (a.header.session_name, a.header.start_time, a.header.version) == (
        b.header.session_name,
        b.header.start_time,
        b.header.version,
    )
    assert dict(a.header.metadata) == dict(b.header.metadata)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("suffix", SUFFIXES)
@fuzz(25)
@given(events=event_lists, name=session_names, metadata=header_metadata)
def test_any_event_stream_round_trips_through_every_format(
    tmp_path: Path, suffix: str, events: list[RecordedEvent], name: str, metadata: dict[str, object]
) -> None:
    cassette = Cassette.build(name, events, start_time=START, metadata=metadata)
    with scratch(tmp_path) as folder:
        path = write_cassette(folder / f"c{suffix}", cassette)
        assert read_cassette(path) == cassette
        assert tuple(iter_events(path)) == cassette.events
        assert read_header(path) == cassette.header


@dataclasses.dataclass
class _Quote:
    symbol: Any
    price: Any


class _Bus:
    def publish(self, event_name: str, event: object, source: str | None = None) -> None:
        """Delivers nowhere: only the recording matters here."""


_plain = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4)
_published = (
    st.dictionaries(st.text(max_size=4), _plain | json_values, max_size=4)
    | st.dictionaries(st.integers(0, 3) | st.text(max_size=2), _plain, max_size=3)
    | st.builds(_Quote, _plain | json_values, _plain)
    | json_values
)


@fuzz(80)
@given(events=st.lists(_published, max_size=6))
def test_what_is_recorded_is_the_snapshot_taken_at_publish_time(events: list[object]) -> None:
    """Flat dicts and dataclasses are kept packed, the rest as snapshots: both read back as the
    snapshot, with the event's type, in publish order."""
    bus = _Bus()
    expected = [(snapshot(event), type(event) is _Quote) for event in events]
    with EventRecorder("packed") as recorder:
        recorder.start_recording(bus)
        for event in events:
            bus.publish("E", event)
    recorded = recorder.events
    assert [(e.event_data, e.event_type is not None) for e in recorded] == expected
    assert [e.event_type for e in recorded if e.event_type] == [
        f"{__name__}:_Quote" for event in events if type(event) is _Quote
    ]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_lone_surrogates_are_recorded_streamed_and_saved(tmp_path: Path, suffix: str) -> None:
    """Text decoded with ``surrogateescape`` (file names, broker bytes) holds lone surrogates:
    publishing it must not raise, and every format must keep it."""
    bus = _Bus()
    recorder = EventRecorder("s\udc80", tmp_path, stream_to=tmp_path / "live.jsonl")
    recorder.start_recording(bus)
    assert bus.publish("name\ud800", {"k\udcff": ["\udc80"]}, "src\udfff") == "delivered"
    recorder.stop_recording()
    assert recorder.stream_error is None
    expected = recorder.to_cassette().events
    assert read_cassette(tmp_path / "live.jsonl").events == expected
    assert read_cassette(recorder.save(f"saved{suffix}")).events == expected


def test_an_int_too_long_for_text_is_marked_not_raised(tmp_path: Path) -> None:
    """Python refuses to turn a >4300-digit int into text; the rest of the event is kept."""
    bus = _Bus()
    recorder = EventRecorder("big", tmp_path, stream_to=tmp_path / "live.jsonl")
    recorder.start_recording(bus)
    assert bus.publish("Big", {"n": 10**5000, "ok": 1}) == "delivered"
    recorder.stop_recording()
    for path in (tmp_path / "live.jsonl", recorder.save("big.json"), recorder.save("big.yaml")):
        (event,) = read_cassette(path).events
        assert event.event_data["ok"] == 1
        assert event.event_data["n"]["__unserializable__"] == "builtins.int"


class _Bus:
    def publish(self, event_name: str, event: object, source: str | None = None) -> str:
        return "delivered"


# --------------------------------------------------------------------------- filter and slice


@fuzz(60)
@given(events=event_lists, picked=st.sets(st.integers(0, 7)))
def test_filter_events_keeps_exactly_the_chosen_events_unchanged(
    events: list[RecordedEvent], picked: set[int]
) -> None:
    replayer = EventReplayer.from_events(events, "s")
    chosen = {id(e) for i, e in enumerate(events) if i in picked}
    kept = replayer.filter_events(where=lambda e: id(e) in chosen).events
    dropped = replayer.filter_events(where=lambda e: id(e) not in chosen).events
    assert kept == [e for e in events if id(e) in chosen]
    assert dropped == [e for e in events if id(e) not in chosen]


@fuzz(60)
@given(events=event_lists, cut=offsets)
def test_slices_partition_the_events_and_rebase_exactly(
    events: list[RecordedEvent], cut: float
) -> None:
    replayer = EventReplayer(Cassette.build("s", events, start_time=START))
    before = replayer.slice(0.0, cut).events
    after = replayer.slice(cut, rebase=False).events
    assert before + after == events
    rebased = replayer.slice(cut)
    assert rebased.events == [e.shifted(-cut) for e in after]
    assert rebased.header.start_time == moved_start(cut)


def moved_start(cut: float) -> str:
    """The slice's start time: moved by ``cut``, or kept when that is past the year 9999."""
    try:
        return shift_iso(START, cut)
    except ValueError:
        return START


# --------------------------------------------------------------------------- the CLI


@fuzz(40)
@given(
    events=event_lists,
    name=session_names,
    metadata=header_metadata,
    chain=st.lists(st.sampled_from(SUFFIXES), min_size=1, max_size=3),
)
def test_convert_is_lossless_between_any_formats(
    tmp_path: Path,
    events: list[RecordedEvent],
    name: str,
    metadata: dict[str, object],
    chain: list[str],
) -> None:
    original = Cassette.build(name, events, start_time=START, metadata=metadata)
    with scratch(tmp_path) as folder:
        path = write_cassette(folder / "in.json", original)
        for step, suffix in enumerate(chain):
            path, previous = folder / f"out{step}{suffix}", path
            cli("convert", previous, path)
        assert read_cassette(path) == original


EVENT_NAMES = ("Order", "Tick", "Fill")
simple_events = st.lists(
    st.builds(
        RecordedEvent,
        timestamp_offset_ms=offsets,
        event_name=st.sampled_from(EVENT_NAMES),
        event_data=json_values,
        source=st.none() | st.sampled_from(("feed", "bot")),
    ),
    max_size=8,
).map(lambda evs: sorted(evs, key=lambda e: e.timestamp_offset_ms))


@fuzz(30)
@given(events=simple_events, metadata=header_metadata, suffix=st.sampled_from(SUFFIXES))
def test_cli_filter_by_name_splits_without_loss(
    tmp_path: Path, events: list[RecordedEvent], metadata: dict[str, object], suffix: str
) -> None:
    original = Cassette.build("s", events, start_time=START, metadata=metadata)
    with scratch(tmp_path) as folder:
        source = write_cassette(folder / f"in{suffix}", original)
        cli("filter", source, "-o", folder / f"same{suffix}")
        cli("filter", source, "-o", folder / f"orders{suffix}", "--event", "Order")
        cli("filter", source, "-o", folder / f"rest{suffix}", "--exclude-event", "Order")
        assert read_cassette(folder / f"same{suffix}") == original
        orders = read_cassette(folder / f"orders{suffix}")
        rest = read_cassette(folder / f"rest{suffix}")
    same_header(orders, original)
    same_header(rest, original)
    assert list(orders.events) == [e for e in events if e.event_name == "Order"]
    assert list(rest.events) == [e for e in events if e.event_name != "Order"]


@fuzz(30)
@given(events=simple_events, cut=st.floats(0.001, 1e12))
def test_cli_filter_by_time_splits_and_rebases_exactly(
    tmp_path: Path, events: list[RecordedEvent], cut: float
) -> None:
    original = Cassette.build("s", events, start_time=START)
    with scratch(tmp_path) as folder:
        source = write_cassette(folder / "in.jsonl", original)
        cli("filter", source, "-o", folder / "early.jsonl", "--to-ms", repr(cut))
        cli("filter", source, "-o", folder / "late.json", "--from-ms", repr(cut), "--no-rebase")
        cli("filter", source, "-o", folder / "moved.yaml", "--from-ms", repr(cut))
        early = read_cassette(folder / "early.jsonl").events
        late = read_cassette(folder / "late.json").events
        moved = read_cassette(folder / "moved.yaml")
    assert early + late == original.events
    assert moved.events == tuple(e.shifted(-cut) for e in late)
    assert moved.header.start_time == shift_iso(START, cut)
    assert all(not math.isnan(e.timestamp_offset_ms) for e in moved.events)


# --------------------------------------------------------------------------- record, replay


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl.gz"])
@fuzz(25)
@given(events=event_lists)
def test_replaying_a_saved_cassette_publishes_exactly_what_was_recorded(
    tmp_path: Path, suffix: str, events: list[RecordedEvent]
) -> None:
    """Record -> save -> load -> replay into a recorded bus: the second recording carries
    the same names, sources and data, in the same order."""
    with scratch(tmp_path) as folder:
        path = write_cassette(folder / f"c{suffix}", Cassette.build("s", events, start_time=START))
        bus = _Bus()
        again = EventRecorder("again", folder, redaction=NO_REDACTION)  # sees the replay as is
        again.start_recording(bus)
        result = EventReplayer(path).replay(bus, math.inf)
        again.stop_recording()
    assert result.published == len(events)
    expected = [(e.event_name, e.source, e.event_data) for e in events]
    assert [(e.event_name, e.source, e.event_data) for e in again.events] == expected
