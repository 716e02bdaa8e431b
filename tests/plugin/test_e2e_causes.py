"""End to end: causes are recorded (sync, asyncio tasks, not threads), kept through
`eventrecorder convert`, and used to compare outputs input by input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from plugin_e2e import QUIET_SUBPROCESS, Runner, cassette_file, write_test

TRADER_TESTS = """
    import asyncio
    import os
    import threading

    import pytest
    from busapp import AsyncBus, live_feed, live_feed_async


    def decide(price):
        if price == float(os.environ.get("CANCEL_AT", "0")):
            return "OrderCancelled"
        if price == float(os.environ.get("SKIP_AT", "0")):
            return None
        return "OrderPlaced" if price < 100 else None


    @pytest.fixture
    def trader(service_bus):
        def on_tick(tick):
            name = decide(tick["price"])
            if name:
                service_bus.publish(name, {"price": tick["price"]}, "bot")
            if tick["ts"] == 3:  # a thread's output has no cause
                worker = threading.Thread(
                    target=service_bus.publish, args=("Audit", {"ts": 3}, "auditor")
                )
                worker.start()
                worker.join()
        service_bus.subscribe("PriceTick", on_tick)


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_sync(service_bus, trader, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.fixture
    def async_bus():
        return AsyncBus()


    @pytest.mark.asyncio
    @pytest.mark.event_cassette(inputs=["PriceTick"], bus="async_bus")
    async def test_tasks(async_bus, event_cassette):
        tasks = []

        async def on_tick(tick):
            async def later():
                await asyncio.sleep(0)
                name = decide(tick["price"])
                if name:
                    await async_bus.publish(name, {"price": tick["price"]}, "bot")
            tasks.append(asyncio.get_running_loop().create_task(later()))

        async_bus.subscribe("PriceTick", on_tick)
        await event_cassette.play_async(live=lambda: live_feed_async(async_bus))
        await asyncio.gather(*tasks)
"""


def causes(path: object) -> list[tuple[str, object]]:
    data = json.loads(open(str(path)).read())  # noqa: SIM115
    return [(e["event_name"], e.get("metadata", {}).get("caused_by")) for e in data["events"]]


RECORDED = [
    ("PriceTick", None),
    ("PriceTick", None),
    ("OrderPlaced", 1),
    ("PriceTick", None),
    ("OrderPlaced", 3),
    ("PriceTick", None),
    ("Audit", None),
]


def test_causes_are_recorded_converted_and_compared_input_by_input(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TRADER_TESTS)
    run_inprocess().assert_outcomes(passed=2)
    sync = cassette_file(project, "test_sync")
    assert causes(sync) == RECORDED
    # the feed publishes every tick before the handlers' tasks run: causes tell them apart
    tick = ("PriceTick", None)
    tasks = [tick, tick, tick, tick, ("OrderPlaced", 1), ("OrderPlaced", 2)]
    assert causes(cassette_file(project, "test_tasks")) == tasks

    for suffix in (".yaml", ".jsonl.gz"):
        other = sync.with_name(f"copy{suffix}")
        back = sync.with_name(f"back{suffix}.json")
        for src, dst in ((sync, other), (other, back)):
            subprocess.run(
                [sys.executable, "-m", "pytest_eventrecorder", "convert", str(src), str(dst)],
                check=True,
                capture_output=True,
            )
        assert causes(back) == RECORDED, suffix

    run_inprocess().assert_outcomes(passed=2)  # replayed: the same causes
    monkeypatch.setenv("SKIP_AT", "99.0")
    result = run_inprocess()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*1 event difference from cassette cassettes/test_bot/test_sync.json (1 missing)",
            "*missing 'OrderPlaced' from source 'bot': recorded #0 was not published",
            "*event_data: {'price': 99.0}",
            "*input #1 'PriceTick' used to cause 'OrderPlaced' (recorded #2); "
            "it now causes nothing",
        ]
    )
    monkeypatch.setenv("CANCEL_AT", "98.5")
    result = run_inprocess("-k", "test_sync")
    result.stdout.fnmatch_lines(
        [
            "*3 event differences*(2 missing, 1 unexpected)",
            "*input #1 'PriceTick' used to cause 'OrderPlaced' (recorded #2); "
            "it now causes nothing",
            "*missing 'OrderPlaced'*recorded #1 was not published",
            "*input #3 'PriceTick' used to cause 'OrderPlaced' (recorded #4); "
            "it now causes 'OrderCancelled' instead",
            "*unexpected 'OrderCancelled' from source 'bot': #0 was never recorded",
            "*caused by input #3 'PriceTick', which never caused it when recorded",
        ]
    )


def test_causes_under_xdist(project: pytest.Pytester) -> None:
    write_test(project, TRADER_TESTS)
    args = (*QUIET_SUBPROCESS, "-n", "2")
    project.runpytest_subprocess(*args).assert_outcomes(passed=2)
    assert causes(cassette_file(project, "test_sync")) == RECORDED
    project.runpytest_subprocess(*args).assert_outcomes(passed=2)


def test_new_episodes_keeps_causes_on_their_inputs(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TRADER_TESTS)
    run_inprocess("-k", "test_sync").assert_outcomes(passed=1)
    monkeypatch.setenv("CANCEL_AT", "101.0")  # tick #0 now also causes an OrderCancelled
    run_inprocess("-k", "test_sync", "--record-mode=new_episodes").assert_outcomes(passed=1)
    assert causes(cassette_file(project, "test_sync")) == [
        ("PriceTick", None),
        ("OrderCancelled", 0),
        ("PriceTick", None),
        ("OrderPlaced", 2),
        ("PriceTick", None),
        ("OrderPlaced", 4),
        ("PriceTick", None),
        ("Audit", None),
    ]


def test_a_replayed_input_is_never_its_own_effect() -> None:
    from pytest_eventrecorder.cassette import Cassette, RecordedEvent
    from pytest_eventrecorder.causality import cause_of, handling
    from pytest_eventrecorder.pytest_plugin.causes import CauseNotes

    tick = RecordedEvent(0, "Tick", {}, "feed")
    notes = CauseNotes(False, True, lambda e: e.event_name == "Tick", Cassette.build("c", [tick]))
    with handling(tick, owner=None):
        assert cause_of(notes.noted(tick)) is None
        assert cause_of(notes.noted(RecordedEvent(0, "Order", {}, "bot"))) == 0
