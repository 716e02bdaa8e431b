"""A ``.json`` replayer hands the freshly parsed payloads to the bus as they are (no copy) on a
replay that nothing else has seen them before, and a subscriber that mutates them still never
changes the recording, a later replay or what the replayer shows."""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import Cassette, EventReplayer, RecordedEvent, serialize, write_cassette


def ticks(n: int = 3) -> list[RecordedEvent]:
    return [RecordedEvent(i, "Tick", {"seq": i, "tags": ["a"]}, "feed") for i in range(n)]


def mutating_bus() -> ServiceBus:
    bus = ServiceBus()

    def scribble(data: dict[str, Any]) -> None:
        data["seq"] = 99
        data["tags"].append("x")

    bus.subscribe("Tick", scribble)
    return bus


@pytest.fixture
def counted_restores(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    calls: list[object] = []
    real = serialize.restore

    def counting(data: object) -> object:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(serialize, "restore", counting)
    return calls


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_a_fresh_json_replay_hands_out_the_parsed_payloads_without_copying(
    tmp_path: Path, suffix: str, counted_restores: list[object]
) -> None:
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    bus = ServiceBus()
    replayer.replay(bus, speed_multiplier=math.inf)
    assert counted_restores == []
    assert [data for _, data, _ in bus.published] == [e.event_data for e in ticks()]


@pytest.mark.parametrize("suffix", [".json", ".json.gz", ".yaml", ".jsonl"])
def test_a_mutating_subscriber_changes_no_later_replay_nor_the_events(
    tmp_path: Path, suffix: str
) -> None:
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    for _ in range(3):
        bus = mutating_bus()
        replayer.replay(bus, speed_multiplier=math.inf)
        assert len(bus.published) == 3
        assert [e.event_data for e in replayer.events] == [e.event_data for e in ticks()]
        assert replayer.to_cassette().events == tuple(ticks())
    assert len(replayer) == 3
    assert replayer.get_event_summary() == {"Tick": 3}


def test_events_seen_before_a_replay_are_never_handed_out(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "t.json", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    held = replayer.events
    cassette = replayer.to_cassette()
    replayer.replay(mutating_bus(), speed_multiplier=math.inf)
    assert [e.event_data for e in held] == [e.event_data for e in ticks()]
    assert cassette.events == tuple(ticks())


def test_tagged_values_are_restored_not_handed_out_raw(tmp_path: Path) -> None:
    events = [RecordedEvent(0, "Blob", {"raw": {"__bytes__": "AAE="}})]
    path = write_cassette(tmp_path / "t.json", Cassette.build("t", events))
    bus = ServiceBus()
    EventReplayer(path).replay(bus, speed_multiplier=math.inf)
    assert bus.published[0][1] == {"raw": b"\x00\x01"}


def test_events_read_while_a_replay_hands_out_are_a_fresh_copy(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "t.json", Cassette.build("t", ticks(50)))
    replayer = EventReplayer(path)
    seen: list[list[RecordedEvent]] = []
    bus = ServiceBus()

    def read_then_scribble(data: dict[str, Any]) -> None:
        if not seen:  # from another thread, as a dashboard or a test might
            reader = threading.Thread(target=lambda: seen.append(replayer.events))
            reader.start()
            reader.join()
        data["seq"] = 99

    bus.subscribe("Tick", read_then_scribble)
    replayer.replay(bus, speed_multiplier=math.inf)
    assert [e.event_data for e in seen[0]] == [e.event_data for e in ticks(50)]
