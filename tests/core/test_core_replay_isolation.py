"""A replay's fast path (payloads handed to the bus uncopied) never shows a subscriber's
mutation to what the caller holds, never reads the file again, and never skips a tag."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import Cassette, EventReplayer, RecordedEvent, write_cassette
from pytest_eventrecorder.formats import iter_event_blocks


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


# ------------------------------------------------------------------ escaped tagged keys


ESCAPED_KEYS = [rb'"\u005f_bytes__"', rb'"_\u005fbytes__"', rb'"\u005F\u005Fbytes__"']


def escaped_blob(tmp_path: Path, suffix: str, key: bytes) -> tuple[Path, Path]:
    """A cassette holding bytes, and the same file with the tag's key written escaped."""
    blob = [RecordedEvent(0, "Blob", {"raw": {"__bytes__": "AAE="}})]
    plain = write_cassette(tmp_path / f"plain{suffix}", Cassette.build("t", blob))
    escaped = tmp_path / f"escaped{suffix}"
    escaped.write_bytes(plain.read_bytes().replace(b'"__bytes__"', key))
    assert key in escaped.read_bytes()
    return plain, escaped


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@pytest.mark.parametrize("key", ESCAPED_KEYS)
def test_an_escaped_tagged_key_replays_as_the_plain_one(
    tmp_path: Path, suffix: str, key: bytes
) -> None:
    plain, escaped = escaped_blob(tmp_path, suffix, key)
    assert published(EventReplayer(escaped)) == published(EventReplayer(plain))
    assert published(EventReplayer(escaped)) == [{"raw": b"\x00\x01"}]


@pytest.mark.parametrize("key", ESCAPED_KEYS)
def test_a_jsonl_block_with_an_escaped_tagged_key_is_tagged(tmp_path: Path, key: bytes) -> None:
    _, escaped = escaped_blob(tmp_path, ".jsonl", key)
    assert [block.tagged for block in iter_event_blocks(escaped)] == [True]


def test_a_filtered_replay_copies_plain_payloads_without_looking_for_a_class(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Plain data and no events module: nothing to rebuild, only a copy to make (the
    plugin's replay, through ``where=``, does it per input)."""
    from pytest_eventrecorder.serialize import Rebuilder

    def refused(self: Rebuilder, event: RecordedEvent) -> type | None:
        raise AssertionError("a class was looked for")

    monkeypatch.setattr(Rebuilder, "class_for", refused)
    events = ticks()
    bus = scribbling_bus()
    result = EventReplayer(Cassette.build("c", events)).replay(
        bus, math.inf, where=lambda e: e.event_name == "Tick"
    )
    assert result.published == 3
    assert events == ticks()
