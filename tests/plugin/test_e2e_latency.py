"""End to end: latency budgets (max_latency_ms=) from each input's publish to its outputs."""

from __future__ import annotations

import pytest
from plugin_e2e import Runner, write_test

SLOW_TESTS = """
    import os
    import time

    import pytest
    from busapp import live_feed


    @pytest.fixture
    def trader(service_bus):
        def on_tick(tick):
            if tick["price"] < 100:
                time.sleep(float(os.environ.get("SLOW", "0")))
                service_bus.publish("OrderPlaced", {"price": tick["price"]}, "bot")
        service_bus.subscribe("PriceTick", on_tick)


    @pytest.mark.event_cassette(inputs=["PriceTick"], max_latency_ms=40)
    def test_fixed(service_bus, trader, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.mark.event_cassette(inputs=["PriceTick"], max_latency_ms="recorded*2+40")
    def test_relative(service_bus, trader, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


def test_a_slow_output_fails_with_the_figures(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, SLOW_TESTS)
    run_inprocess().assert_outcomes(passed=2)
    run_inprocess().assert_outcomes(passed=2)
    monkeypatch.setenv("SLOW", "0.06")
    result = run_inprocess()
    result.assert_outcomes(failed=2)
    result.stdout.re_match_lines(
        [
            r".*2 outputs slower than max_latency_ms=40 \(time from the input's publish to "
            r"the output's, monotonic clock\)",
            r".*'OrderPlaced' from source 'bot' \(now #0\), caused by input #1 'PriceTick': "
            r"\d\d+\.\d ms > 40 ms \(recorded \d+\.\d+ ms\)",
            r".*2 outputs slower than max_latency_ms='recorded\*2\+40'.*",
            r".*'OrderPlaced' from source 'bot' \(now #1\), caused by input #3 'PriceTick': "
            r"\d\d+\.\d ms > \d+(\.\d+)? ms \(recorded \d+\.\d+ ms\)",
        ]
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [("fast", "a number of ms, or 'recorded*K' / 'recorded+M'"), (0, "> 0"), (True, "a number")],
)
def test_a_bad_budget_names_the_accepted_forms(value: object, problem: str) -> None:
    from pytest_eventrecorder.pytest_plugin.latency import check_budget

    with pytest.raises((ValueError, TypeError)) as info:
        check_budget(value)
    assert problem in str(info.value)
