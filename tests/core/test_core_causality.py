"""Causes: the context variable the replayer sets, and indices kept when events are added."""

from __future__ import annotations

import asyncio
import threading

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder.cassette import Cassette, RecordedEvent
from pytest_eventrecorder.causality import (
    Handling,
    cause_of,
    handling,
    handling_now,
    reindexed,
    with_cause,
)
from pytest_eventrecorder.replayer import EventReplayer


def ev(name: str, at: float = 0.0) -> RecordedEvent:
    return RecordedEvent(at, name, {}, "s")


def test_the_replayer_marks_each_event_while_publishing_it_but_not_other_threads() -> None:
    events = [ev("Tick", 0), ev("Tick", 1)]
    seen: list[tuple[str, RecordedEvent | None]] = []
    bus = ServiceBus()

    def note(how: str) -> None:
        now = handling_now()
        seen.append((how, None if now is None else now.event))

    def in_a_thread(_event: object) -> None:
        worker = threading.Thread(target=note, args=("thread",))
        worker.start()
        worker.join()

    bus.subscribe("Tick", lambda _e: note("sync"))
    bus.subscribe("Tick", in_a_thread)
    EventReplayer(Cassette.build("c", events)).replay(bus, float("inf"))
    assert seen == [
        ("sync", events[0]),
        ("thread", None),
        ("sync", events[1]),
        ("thread", None),
    ]
    assert handling_now() is None


def test_an_instant_replay_puts_back_the_mark_it_found_even_when_a_subscriber_raises() -> None:
    # The instant loop replaces each event's mark by the next instead of undoing it.
    outer = ev("Outer")
    bus = ServiceBus()
    bus.subscribe("Tick", lambda _e: None)
    bus.subscribe("Boom", lambda _e: 1 / 0)

    def marked() -> RecordedEvent | None:
        now = handling_now()
        return None if now is None else now.event

    with handling(outer, owner="test"):
        EventReplayer(Cassette.build("c", [ev("Tick")])).replay(bus, float("inf"))
        assert marked() is outer
        with pytest.raises(ZeroDivisionError):
            EventReplayer(Cassette.build("c", [ev("Tick"), ev("Boom")])).replay(bus, float("inf"))
        assert marked() is outer
    assert handling_now() is None


def test_asyncio_tasks_inherit_the_input_they_were_started_for() -> None:
    async def main() -> list[RecordedEvent | None]:
        found: list[RecordedEvent | None] = []

        async def later() -> None:
            await asyncio.sleep(0)
            now = handling_now()
            found.append(None if now is None else now.event)

        first, second = ev("A"), ev("B")
        tasks = []
        for event in (first, second):
            with handling(event, owner="test"):
                tasks.append(asyncio.create_task(later()))
        await asyncio.gather(*tasks)
        return found

    names = [e.event_name if e else None for e in asyncio.run(main())]
    assert names == ["A", "B"]


def test_reindexed_keeps_each_cause_on_its_input() -> None:
    tick, order = ev("Tick", 1), with_cause(ev("Order", 2), 0)
    before = [tick, order]
    new = with_cause(ev("New", 0.5), 0)
    after = reindexed(before, [new, tick, order])
    assert [cause_of(e) for e in after] == [1, None, 1]
    assert after[2].metadata == {"caused_by": 1}
    assert isinstance(Handling(tick, None, 0), Handling)
