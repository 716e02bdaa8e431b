"""A replay's fast path (payloads handed to the bus uncopied) never shows a subscriber's
mutation to what the caller holds, never reads the file again, and never skips a tag."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import Cassette, EventReplayer, RecordedEvent, write_cassette


def ticks(n: int = 3) -> list[RecordedEvent]:
    return [RecordedEvent(i, "Tick", {"seq": i, "tags": ["a"]}, "feed") for i in range(n)]


def published(replayer: EventReplayer) -> list[Any]:
    bus = ServiceBus()
    replayer.replay(bus, speed_multiplier=math.inf)
    return [data for _, data, _ in bus.published]


def scribbling_bus(*, then_raise: bool = False) -> ServiceBus:
    bus = ServiceBus()

    def scribble(data: dict[str, Any]) -> None:
        data["seq"] = 99
        data["tags"].append("x")
        if then_raise:
            raise RuntimeError("subscriber failed")

    bus.subscribe("Tick", scribble)
    return bus


# ------------------------------------------------------------------ replays what it loaded


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
@pytest.mark.parametrize("change", ["overwrite", "delete"])
def test_a_later_replay_replays_what_was_loaded_not_the_file_now(
    tmp_path: Path, suffix: str, change: str
) -> None:
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    first = published(replayer)  # hands the parsed payloads out: the next pass parses again
    if change == "delete":
        path.unlink()
    else:
        write_cassette(path, Cassette.build("other", ticks(7)))
    assert published(replayer) == first == [e.event_data for e in ticks()]
    assert replayer.events == ticks()


# ------------------------------------------------------------------ continue_on_error


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_collected_errors_show_each_event_as_recorded(tmp_path: Path, suffix: str) -> None:
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", ticks()))
    result = EventReplayer(path).replay(
        scribbling_bus(then_raise=True), speed_multiplier=math.inf, continue_on_error=True
    )
    assert [error.event for error in result.errors] == ticks()


def test_collected_errors_stay_as_recorded_through_later_replays(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "t.json", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    result = replayer.replay(
        scribbling_bus(then_raise=True), speed_multiplier=math.inf, continue_on_error=True
    )
    replayer.replay(scribbling_bus(), speed_multiplier=math.inf)
    assert [error.event for error in result.errors] == ticks()


# ------------------------------------------------------------------ where= predicates


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_events_a_where_predicate_kept_are_never_handed_out(tmp_path: Path, suffix: str) -> None:
    path = write_cassette(tmp_path / f"t{suffix}", Cassette.build("t", ticks()))
    replayer = EventReplayer(path)
    seen: list[RecordedEvent] = []

    def keep(event: RecordedEvent) -> bool:
        seen.append(event)
        return True

    replayer.replay(scribbling_bus(), speed_multiplier=math.inf, where=keep)
    replayer.replay(scribbling_bus(), speed_multiplier=math.inf)  # no user code sees these
    assert seen == ticks()
