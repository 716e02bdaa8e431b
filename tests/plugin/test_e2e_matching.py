"""End to end: matchers per field (marker, event_recorder_config, ini) and the match hook."""

from __future__ import annotations

import textwrap

import pytest
from plugin_e2e import Runner, conftest_with, write_test

PRICER_TEST = """
    import os

    import pytest
    from busapp import live_feed
    from pytest_eventrecorder.matchers import approx


    @pytest.fixture
    def pricer(service_bus):
        def on_tick(tick):
            skew = float(os.environ.get("SKEW", "1"))
            quote = {
                "price": round(tick["price"] * skew, 4),
                "id": f"q-{tick['ts']}{os.environ.get('QID', '')}",
                "host": os.environ.get("BOT_HOST", "a"),
                "tags": ["x", "y"] if not os.environ.get("SWAP_TAGS") else ["y", "x"],
            }
            service_bus.publish("Quote", quote, "pricer")
        service_bus.subscribe("PriceTick", on_tick)


    @pytest.mark.event_cassette(
        inputs=["PriceTick"], matchers={"event_data.price": approx(rel=1e-3)}
    )
    def test_quotes(service_bus, pricer, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""

HOOKS = """
    from pytest_eventrecorder.matchers import unordered

    @pytest.fixture
    def event_recorder_config():
        return {"matchers": {"tags": unordered()}}

    def pytest_eventrecorder_match(recorded, actual, path):
        if path == "event_data.host":
            return True
        return None
"""


@pytest.fixture
def pricer_project(project: pytest.Pytester) -> pytest.Pytester:
    project.makeconftest(conftest_with(HOOKS))
    project.makeini(
        textwrap.dedent(
            r"""
            [pytest]
            asyncio_default_fixture_loop_scope = function
            event_recorder_matchers =
                event_data.id regex('q-\d+')
            """
        )
    )
    write_test(project, PRICER_TEST)
    return project


def test_matchers_accept_what_they_match_and_name_themselves_when_they_reject(
    pricer_project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_inprocess().assert_outcomes(passed=1)
    for name, value in (("SKEW", "1.0005"), ("QID", "7"), ("BOT_HOST", "b"), ("SWAP_TAGS", "1")):
        monkeypatch.setenv(name, value)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("SKEW", "1.01")
    monkeypatch.setenv("QID", "x")
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*4 event differences from cassette cassettes/test_bot/test_quotes.json (4 changed)",
            "*?1? changed 'Quote' from source 'pricer' (recorded #0, now #0)",
            "*event_data.id: 'q-0' != 'q-0x' (regex 'q-\\\\d+')",
            "*event_data.price: 101.0 != 102.01 (approx rel=0.001)",
        ]
    )
    assert "event_data.host" not in result.stdout.str()
    assert "event_data.tags" not in result.stdout.str()


def test_a_matcher_path_naming_no_field_is_a_warning(
    pricer_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    pricer_project.makeini("[pytest]\nevent_recorder_matchers = event_data.prise approx()\n")
    run_inprocess().assert_outcomes(passed=1)
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*matchers path 'event_data.prise' matches no field in any event's data*"]
    )


def test_a_bad_ini_matcher_fails_the_test_naming_the_line(
    pricer_project: pytest.Pytester, run_inprocess: Runner
) -> None:
    pricer_project.makeini("[pytest]\nevent_recorder_matchers = price approx(rel=open)\n")
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*ini option event_recorder_matchers: 'price approx(rel=open)': arguments may be only*"]
    )
