"""End-to-end: record, replay without calling live, and fail with a diff on a change."""

from __future__ import annotations

import json

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, live_calls, write_test

PER_SYMBOL = """
    import pytest

    @pytest.mark.parametrize("n", range(6))
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_symbol(service_bus, bot, event_cassette, n):
        ticks = lambda: [service_bus.publish("PriceTick", {"symbol": f"S{n}", "price": p}, "feed")
                         for p in (90.0 + n, 120.0)]
        event_cassette.play(live=ticks)
        assert len(bot.orders) == 1
"""


def test_first_run_records_second_replays_without_live(
    project: pytest.Pytester, run: Runner
) -> None:
    write_test(project, BOT_TEST)
    write_test(project, PER_SYMBOL, name="test_symbols")
    run().assert_outcomes(passed=7)
    for n in range(6):
        doc = json.loads(cassette_file(project, f"test_symbol[{n}]", "test_symbols").read_text())
        assert doc["total_events"] == 3
        assert doc["events"][1]["event_data"]["symbol"] == f"S{n}"
    path = cassette_file(project, "test_bot_orders")
    recorded = json.loads(path.read_text())
    assert [e["event_name"] for e in recorded["events"]] == [
        "PriceTick",
        "PriceTick",
        "OrderPlaced",
        "PriceTick",
        "OrderPlaced",
        "PriceTick",
    ]
    assert recorded["metadata"]["test"] == "test_bot.py::test_bot_orders"
    assert live_calls(project) == 1

    run("--record-mode=none").assert_outcomes(passed=7)
    assert live_calls(project) == 1
    assert json.loads(path.read_text()) == recorded


CHANGE_TEST = """
    import pytest
    from busapp import live_feed

    @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields=["order_id"])
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


def test_behaviour_change_fails_with_a_diff_naming_the_event(
    project: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, CHANGE_TEST)
    run().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "99")
    result = run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*1 event difference from cassette *test_bot_orders.json (1 missing)*",
            "*missing 'OrderPlaced' from source 'bot': recorded #0 was not published",
            "*event_data: {*'price': 99.0*",
            "*re-record with: pytest test_bot.py::test_bot_orders --record-mode=all",
        ]
    )
    assert live_calls(project) == 1


def test_a_failing_assertion_also_shows_the_event_differences(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "99")
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: assert 1 == 2",
            "*Captured event differences call*",
            "*missing 'OrderPlaced' from source 'bot': recorded #0 was not published",
        ]
    )
