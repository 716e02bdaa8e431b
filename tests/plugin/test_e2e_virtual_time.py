"""End to end: ``clock="recorded"`` from the marker, the config fixture and the ini option;
windows that collapse without it; asyncio timers on recorded time; the real clock back
after a failing test; under pytest-xdist and at a paced speed."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest
from plugin_e2e import Runner

from pytest_eventrecorder import Cassette, RecordedEvent
from pytest_eventrecorder.formats import read_cassette, write_cassette

START = "2024-03-01T12:00:00.000Z"
START_S = datetime(2024, 3, 1, 12, tzinfo=timezone.utc).timestamp()

APP = '''
    """A window aggregator and a heartbeat watchdog: both read the clock."""
    import asyncio
    import time
    from datetime import datetime, timezone


    class ServiceBus:
        def __init__(self):
            self.handlers = {}

        def subscribe(self, name, handler):
            self.handlers.setdefault(name, []).append(handler)

        def publish(self, event_name, event, source=None):
            for handler in list(self.handlers.get(event_name, [])):
                handler(event)


    class AsyncBus(ServiceBus):
        async def publish(self, event_name, event, source=None):
            for handler in list(self.handlers.get(event_name, [])):
                await handler(event)


    class Windows:
        """A tick 2 s or more after the window opened closes it."""

        def __init__(self, bus):
            self.bus, self.opened, self.count = bus, None, 0
            bus.subscribe("Tick", self.on_tick)

        def on_tick(self, tick):
            now = time.time()
            if self.opened is not None and now - self.opened >= 2:
                closed = {"count": self.count, "closed_at": datetime.now(timezone.utc).isoformat()}
                self.bus.publish("WindowClosed", closed, "windows")
                self.opened, self.count = None, 0
            if self.opened is None:
                self.opened = now
            self.count += 1


    class Heartbeat:
        """No Ping for 5 s: Silence."""

        def __init__(self, bus):
            self.bus, self.watchdog = bus, None
            bus.subscribe("Ping", self.on_ping)

        async def on_ping(self, ping):
            if self.watchdog is not None:
                self.watchdog.cancel()
            self.watchdog = asyncio.get_running_loop().create_task(self.watch())

        async def watch(self):
            await asyncio.sleep(5)
            await self.bus.publish("Silence", {"at": time.time()}, "heartbeat")
'''

CONFTEST = """
    import pytest
    from clockapp import AsyncBus, ServiceBus


    @pytest.fixture
    def service_bus():
        return ServiceBus()


    @pytest.fixture
    def async_bus():
        return AsyncBus()
"""

CLOCK_TESTS = """
    import time
    from datetime import datetime

    import pytest
    from clockapp import Heartbeat, Windows


    @pytest.mark.event_cassette("windows", inputs=["Tick"], clock="recorded")
    def test_windows_under_the_recorded_clock(service_bus, event_cassette):
        Windows(service_bus)
        event_cassette.play()
        assert datetime.now().year >= 2025  # the real clock again, after play()


    @pytest.mark.event_cassette("windows", inputs=["Tick"])
    def test_windows_on_the_real_clock(service_bus, event_cassette):
        Windows(service_bus)
        event_cassette.play()


    @pytest.mark.event_cassette("windows", inputs=["Tick"], clock="recorded")
    def test_a_failing_test(service_bus, event_cassette):
        Windows(service_bus)
        event_cassette.play()
        assert False, "fails after the replay"


    def test_the_clock_is_real_outside_replays():
        assert datetime.now().year >= 2025
        assert type(time.monotonic).__name__ == "builtin_function_or_method"


    @pytest.mark.event_cassette("windows", inputs=["Tick"], clock="sideways")
    def test_a_bad_clock(service_bus, event_cassette):
        event_cassette.play()


    @pytest.mark.asyncio
    @pytest.mark.event_cassette("heartbeat", inputs=["Ping"], bus="async_bus", clock="recorded")
    async def test_heartbeat(async_bus, event_cassette):
        Heartbeat(async_bus)
        began = time.perf_counter()
        await event_cassette.play_async()
        assert time.perf_counter() - began < 5  # 14 s recorded
"""

CONFIG_TESTS = """
    import pytest
    from clockapp import Windows


    @pytest.fixture
    def event_recorder_config():
        return {"clock": "recorded"}


    @pytest.mark.event_cassette("../test_clock/windows", inputs=["Tick"])
    def test_windows_via_the_config_fixture(service_bus, event_cassette):
        Windows(service_bus)
        event_cassette.play()
"""


def closed(at_s: int) -> str:
    return datetime.fromtimestamp(START_S + at_s, timezone.utc).isoformat()


def cassettes(pytester: pytest.Pytester) -> None:
    ticks = [
        RecordedEvent(ms, "Tick", {"n": i}, "feed")
        for i, ms in enumerate((0, 500, 1000, 3000, 3500, 7000))
    ]
    windows = [
        RecordedEvent(3000, "WindowClosed", {"count": 3, "closed_at": closed(3)}, "windows"),
        RecordedEvent(7000, "WindowClosed", {"count": 2, "closed_at": closed(7)}, "windows"),
    ]
    pings = [RecordedEvent(ms, "Ping", {"n": i}, "feed") for i, ms in enumerate((0, 1000, 9000))]
    silences = [
        RecordedEvent(6000, "Silence", {"at": START_S + 6}, "heartbeat"),
        RecordedEvent(14000, "Silence", {"at": START_S + 14}, "heartbeat"),
    ]
    folder = pytester.path / "cassettes" / "test_clock"
    folder.mkdir(parents=True)
    for name, events in (("windows", ticks + windows), ("heartbeat", pings + silences)):
        ordered = sorted(events, key=lambda e: e.timestamp_offset_ms)
        write_cassette(folder / f"{name}.json", Cassette.build(name, ordered, start_time=START))


@pytest.fixture
def clock_project(project: pytest.Pytester) -> pytest.Pytester:
    project.makepyfile(
        clockapp=textwrap.dedent(APP),
        conftest=textwrap.dedent(CONFTEST),
        test_clock=textwrap.dedent(CLOCK_TESTS),
        test_clock_config=textwrap.dedent(CONFIG_TESTS),
    )
    cassettes(project)
    return project


def test_the_recorded_clock_from_marker_and_config(
    clock_project: pytest.Pytester, run: Runner
) -> None:
    result = run("--record-mode=none")
    result.assert_outcomes(passed=4, failed=2, errors=1)
    out = result.stdout.str()
    assert "FAILED test_clock.py::test_windows_on_the_real_clock" in out
    assert "missing 'WindowClosed'" in out  # the windows collapsed: nothing was closed
    assert "clock='sideways' is not valid: clock must be one of 'real', 'recorded'" in out
    assert "fails after the replay" in out


def test_the_ini_option_and_a_paced_speed(
    clock_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    result = run_inprocess(
        "--record-mode=none",
        "-o",
        "event_recorder_clock=recorded",
        "--replay-speed=20",
        "-k",
        "real_clock or heartbeat",
        "--durations=0",
    )
    result.assert_outcomes(passed=2)


EPISODES_TEST = """
    import pytest
    from clockapp import Windows


    @pytest.mark.event_cassette("episodes", inputs=["Tick"], clock="recorded",
                                record_mode="new_episodes")
    def test_new_outputs_get_recorded_time(service_bus, event_cassette):
        Windows(service_bus)
        event_cassette.play()
"""


def test_new_episodes_stamps_new_outputs_with_recorded_time(
    clock_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    windows = clock_project.path / "cassettes" / "test_clock" / "windows.json"
    folder = clock_project.path / "cassettes" / "test_episodes"
    folder.mkdir()
    ticks = [e for e in read_cassette(windows).events if e.event_name == "Tick"]
    write_cassette(folder / "episodes.json", Cassette.build("episodes", ticks, start_time=START))
    clock_project.makepyfile(test_episodes=textwrap.dedent(EPISODES_TEST))
    run_inprocess("test_episodes.py").assert_outcomes(passed=1)
    first = (folder / "episodes.json").read_bytes()
    added = [e for e in read_cassette(folder / "episodes.json").events if e.event_name != "Tick"]
    assert [(e.timestamp_offset_ms, e.event_data["count"]) for e in added] == [(3000, 3), (7000, 2)]
    run_inprocess("test_episodes.py").assert_outcomes(passed=1)
    assert (folder / "episodes.json").read_bytes() == first  # the same from run to run


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "virtual_time"


def test_the_candles_example_passes_under_the_clock(pytester: pytest.Pytester) -> None:
    """Its second test shows the minutes collapsing without the clock."""
    cassette = EXAMPLE / "cassettes" / "test_candles" / "test_candles_close_every_minute.json"
    before = cassette.read_bytes()
    result = pytester.runpytest_inprocess(
        str(EXAMPLE), "--record-mode=none", "-p", "no:cacheprovider", "--rootdir", str(EXAMPLE)
    )
    result.assert_outcomes(passed=2)
    assert cassette.read_bytes() == before
