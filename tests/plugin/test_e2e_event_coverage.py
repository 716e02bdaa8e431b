"""``pytest --event-coverage=RECORDING``: which of the traffic in recordings the cassettes of
the tests that ran exercise, in the terminal summary, with a fail-under threshold."""

from __future__ import annotations

import pytest
from plugin_e2e import BOT_TEST, Runner, write_test

from pytest_eventrecorder import RecordedEvent
from pytest_eventrecorder.cassette import Cassette
from pytest_eventrecorder.formats import write_cassette

OTHER_TEST = """
    import pytest


    @pytest.mark.event_cassette(inputs=["Halt"])
    def test_not_run(service_bus, event_cassette):
        event_cassette.play(live=lambda: service_bus.publish("Halt", {"why": "x"}, "exchange"))
"""


def _traffic(pytester: pytest.Pytester) -> None:
    """Ticks and orders as the cassettes hold them, a tick of another shape, and Halts."""
    events = [
        RecordedEvent(float(n), "PriceTick", {"symbol": "X", "price": 99.0, "ts": n}, "feed")
        for n in range(100)
    ]
    events += [RecordedEvent(100.0, "PriceTick", {"symbol": "X", "bid": 1.0}, "feed")]
    events += [RecordedEvent(200.0 + n, "Halt", {"why": "x"}, "exchange") for n in range(50)]
    write_cassette(pytester.path / "prod.jsonl", Cassette.build("prod", events))


def test_the_summary_reports_coverage_of_the_tests_that_ran_and_fails_under(
    project: pytest.Pytester, run: Runner
) -> None:
    write_test(project, BOT_TEST)
    write_test(project, OTHER_TEST, "test_other")
    _traffic(project)
    (project.path / "cassettes/test_other").mkdir(parents=True)
    other = project.path / "cassettes/test_other/test_not_run.json"
    write_cassette(
        other, Cassette.build("x", [RecordedEvent(0.0, "Halt", {"why": "x"}, "exchange")])
    )
    result = run(
        "test_bot.py",  # test_other.py does not run: its Halt cassette must not count
        "--event-coverage=prod.jsonl",
        "--event-coverage-fail-under=90",
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*event coverage*",
            "*event coverage of 151 recorded events by 1 cassette*",
            "*event names*1 of 2*( 50.0%)",
            "*sources*1 of 2*( 50.0%)",
            "*shapes*1 of 3*( 33.3%)",
            "*overall*3 of 7*( 42.9%); events fully covered: 66.2%",
            "*not exercised, by volume*",
            "*50  event name Halt",
            "*1  shape      PriceTick {bid, symbol}",
            "*event coverage 42.9% is under 90%*",
        ]
    )
    passing = run("test_bot.py", "--event-coverage=prod.jsonl", "--event-coverage-fail-under=40")
    assert passing.ret == pytest.ExitCode.OK
    both = run("--event-coverage=prod.jsonl", "--event-coverage=prod.jsonl", "-p", "no:randomly")
    both.stdout.fnmatch_lines(["*event coverage of 302 recorded events by 2 cassettes*"])


def test_a_missing_recording_is_a_usage_error(project: pytest.Pytester) -> None:
    write_test(project, BOT_TEST)
    result = project.runpytest("--event-coverage=nowhere.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--event-coverage: nowhere.jsonl: no such file*"])


def test_a_cassette_replayed_by_event_replay_counts(project: pytest.Pytester) -> None:
    body = """
        import pytest


        @pytest.mark.event_cassette("halts")
        def test_halts(event_replay):
            event_replay.play()
    """
    write_test(project, body, "test_halts")
    _traffic(project)
    halts = [RecordedEvent(0.0, "Halt", {"why": "x"}, "exchange")]
    (project.path / "cassettes/test_halts").mkdir(parents=True)
    write_cassette(project.path / "cassettes/test_halts/halts.json", Cassette.build("h", halts))
    result = project.runpytest("--event-coverage=prod.jsonl", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*by 1 cassette of the tests that ran:", "*event names*1 of 2*"])
    result.stdout.fnmatch_lines(["*101  event name PriceTick"])
