"""Perturbed replay (``event_cassette.explore``): the recorded inputs delivered twice, lost,
reordered or late, as a broker might, with a check after each variation."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from plugin_e2e import write_test

from pytest_eventrecorder import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette

LEDGER = '''
    """A ledger crediting deposits; IDEMPOTENT says whether a repeated deposit is ignored."""


    class Ledger:
        def __init__(self, bus, idempotent):
            self.idempotent = idempotent
            self.reset()
            bus.subscribe("Deposit", self.on_deposit)
            bus.subscribe("Open", self.on_open)

        def reset(self):
            self.balance, self.seen, self.open = 0, set(), False

        def on_open(self, event):
            self.open = True

        def on_deposit(self, event):
            if not self.open:
                raise RuntimeError("deposit before the account was opened")
            if self.idempotent and event["id"] in self.seen:
                return
            self.seen.add(event["id"])
            self.balance += event["amount"]


    def feed(bus):
        bus.publish("Open", {"account": 1}, "accounts")
        for n, amount in enumerate((10, 20, 30)):
            bus.publish("Deposit", {"id": n, "amount": amount}, "bank")


    async def feed_async(bus):
        await bus.publish("Open", {"account": 1}, "accounts")
        for n, amount in enumerate((10, 20, 30)):
            await bus.publish("Deposit", {"id": n, "amount": amount}, "bank")
'''

TESTS = """
    import pytest
    from busapp import AsyncBus
    from ledger import Ledger, feed, feed_async

    INPUTS = ["Open", "Deposit"]


    @pytest.fixture
    def async_bus():
        return AsyncBus()


    @pytest.mark.event_cassette(inputs=INPUTS)
    def test_idempotent(service_bus, event_cassette):
        ledger = Ledger(service_bus, idempotent=True)
        event_cassette.play(live=lambda: feed(service_bus))
        result = event_cassette.explore(
            lambda: ledger.balance == 60, setup=ledger.reset, reorder=False, max_examples=30
        )
        assert result.examples >= 1 and result.failure is None


    @pytest.mark.event_cassette(inputs=INPUTS)
    def test_not_idempotent(service_bus, event_cassette):
        ledger = Ledger(service_bus, idempotent=False)
        event_cassette.play(live=lambda: feed(service_bus))
        event_cassette.explore(lambda: ledger.balance == 60, setup=ledger.reset, reorder=False)


    @pytest.mark.event_cassette(inputs=INPUTS)
    def test_lost(service_bus, event_cassette):
        ledger = Ledger(service_bus, idempotent=True)
        event_cassette.play(live=lambda: feed(service_bus))
        event_cassette.explore(
            lambda: ledger.balance == 60, setup=ledger.reset, duplicate=False, drop=True,
            reorder=False,
        )


    @pytest.mark.event_cassette(inputs=INPUTS)
    def test_other_sources_first(service_bus, event_cassette):
        ledger = Ledger(service_bus, idempotent=True)
        event_cassette.play(live=lambda: feed(service_bus))
        event_cassette.explore(
            lambda: ledger.balance == 60, setup=ledger.reset, duplicate=False
        )


    @pytest.mark.asyncio
    @pytest.mark.event_cassette(inputs=INPUTS, bus="async_bus")
    async def test_async_not_idempotent(async_bus, event_cassette):
        ledger = Ledger(async_bus, idempotent=False)

        async def on_deposit(event):
            ledger.on_deposit(event)

        async def on_open(event):
            ledger.on_open(event)

        async_bus.handlers = {"Deposit": [on_deposit], "Open": [on_open]}
        await event_cassette.play_async(live=lambda: feed_async(async_bus))

        async def check():
            assert ledger.balance == 60, f"balance {ledger.balance}"

        await event_cassette.explore_async(check, setup=ledger.reset, reorder=False)
"""

REPLAY_FAILURE = """
    import pytest
    from ledger import Ledger


    @pytest.mark.event_cassette(
        "../test_explore/test_not_idempotent-explored", inputs=["Open", "Deposit"]
    )
    def test_replays_the_failure(service_bus, event_replay):
        ledger = Ledger(service_bus, idempotent=False)
        event_replay.play()
        assert ledger.balance == 60
"""


def _project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(ledger=textwrap.dedent(LEDGER))
    write_test(pytester, TESTS, "test_explore")


def test_explore_finds_shrinks_reports_and_saves_the_failing_variation(
    project: pytest.Pytester,
) -> None:
    _project(project)
    recorded = project.runpytest("-p", "no:cacheprovider")
    replayed = project.runpytest("-p", "no:cacheprovider")
    for result in (recorded, replayed):
        result.assert_outcomes(passed=1, failed=4)
        out = result.stdout.str()
        # shrunk to one change each, named by input number, name, source and time
        result.stdout.fnmatch_lines(
            [
                "*explore: the check fails when the recorded inputs are delivered like this*",
                "*input #? ('Deposit' from bank at * ms) delivered twice",
            ]
        )
        assert "input #1 ('Open' from accounts at * ms)" not in out
        result.stdout.fnmatch_lines(["*input #? ('Deposit' from bank at * ms) lost"])
        result.stdout.fnmatch_lines(
            ["*input #? ('Deposit' from bank at * ms) delivered before input #1 ('Open'*"]
        )
        result.stdout.fnmatch_lines(["*RuntimeError: deposit before the account was opened*"])
        result.stdout.fnmatch_lines(["*AssertionError: balance *"])
        result.stdout.fnmatch_lines(
            ["*saved as cassettes/test_explore/test_not_idempotent-explored.json*"]
        )
    saved = json.loads(
        (project.path / "cassettes/test_explore/test_not_idempotent-explored.json").read_text()
    )
    names = [e["event_name"] for e in saved["events"]]
    assert names.count("Deposit") == 4  # exactly what was delivered
    assert names.count("Open") == 1
    assert saved["metadata"]["explored"]["changes"][0].endswith("delivered twice")
    # the recorded cassettes hold the live run only, none of the variations
    plain = json.loads((project.path / "cassettes/test_explore/test_idempotent.json").read_text())
    assert len(plain["events"]) == 4
    write_test(project, REPLAY_FAILURE, "test_replay_failure")
    again = project.runpytest("test_replay_failure.py", "-p", "no:cacheprovider")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*assert * == 60*"])


def test_explore_without_hypothesis_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_eventrecorder.pytest_plugin import explore

    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(ImportError, match=r"pip install 'pytest-eventrecorder\[explore\]'"):
        explore.strategy([], explore.Perturbations())


def test_explore_refuses_bad_perturbations() -> None:
    from pytest_eventrecorder.pytest_plugin.explore import perturbations

    with pytest.raises(ValueError, match="reorder must be True, False or 'per_source'"):
        perturbations(reorder="sometimes")
    with pytest.raises(ValueError, match="0 <= low <= high"):
        perturbations(delay_ms=(50, 0))
    with pytest.raises(TypeError, match="delay_ms must be"):
        perturbations(delay_ms=5)


GAPS = '''
    import time


    class Gaps:
        """The longest time between two ticks, as the code under test reads the clock."""

        def __init__(self, bus):
            self.reset()
            bus.subscribe("Tick", lambda event: self.times.append(time.time()))

        def reset(self):
            self.times = []

        def longest(self):
            return max((b - a for a, b in zip(self.times, self.times[1:])), default=0.0)
'''

GAPS_TEST = """
    import pytest
    from gaps import Gaps


    @pytest.mark.event_cassette(inputs=["Tick"], clock="recorded")
    def test_gaps(service_bus, event_cassette):
        gaps = Gaps(service_bus)
        event_cassette.play()
        assert gaps.longest() == pytest.approx(0.010)
        event_cassette.explore(
            lambda: gaps.longest() < 0.045, setup=gaps.reset, duplicate=False, reorder=False
        )
"""


def test_explore_delays_are_read_on_the_recorded_clock(project: pytest.Pytester) -> None:
    """At instant speed a late input is late only on the recorded clock: there, the code
    under test sees the gap a delay makes."""
    project.makepyfile(gaps=textwrap.dedent(GAPS))
    write_test(project, GAPS_TEST, "test_gaps")
    ticks = [RecordedEvent(float(at), "Tick", {"n": at}, "feed") for at in (0, 10, 20)]
    folder = project.path / "cassettes/test_gaps"
    folder.mkdir(parents=True)
    start = "2024-03-01T12:00:00.000Z"
    write_cassette(folder / "test_gaps.json", Cassette.build("gaps", ticks, start_time=start))
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*input #? ('Tick' from feed at * ms) delivered * ms late"])
    result.stdout.fnmatch_lines(["*check: check() returned False*"])


def test_a_failing_check_may_call_pytest_fail_and_an_async_bus_needs_explore_async(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(ledger=textwrap.dedent(LEDGER))
    body = """
        import pytest
        from busapp import AsyncBus
        from ledger import Ledger, feed


        @pytest.mark.event_cassette(inputs=["Open", "Deposit"])
        def test_fail_in_check(service_bus, event_cassette):
            ledger = Ledger(service_bus, idempotent=False)
            event_cassette.play(live=lambda: feed(service_bus))

            def check():
                if ledger.balance != 60:
                    pytest.fail(f"balance {ledger.balance}")

            event_cassette.explore(check, setup=ledger.reset, reorder=False)


        @pytest.mark.event_cassette(inputs=["Open", "Deposit"], bus="async_bus")
        def test_async_bus(event_cassette):
            event_cassette.explore(lambda: True)


        @pytest.fixture
        def async_bus():
            return AsyncBus()
    """
    write_test(project, body, "test_checks")
    (project.path / "cassettes/test_checks").mkdir(parents=True)
    events = [RecordedEvent(0.0, "Open", {"account": 1}, "accounts")]
    events += [RecordedEvent(1.0, "Deposit", {"id": 0, "amount": 60}, "bank")]
    for name in ("test_fail_in_check", "test_async_bus"):
        write_cassette(
            project.path / f"cassettes/test_checks/{name}.json", Cassette.build("x", events)
        )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*delivered twice", "*check: Failed: balance 120*"])
    result.stdout.fnmatch_lines(["*use `await event_cassette.explore_async(...)`*"])
