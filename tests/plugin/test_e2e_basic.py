"""End-to-end: record, replay without calling live, and fail with a diff on a change."""

from __future__ import annotations

import json

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, live_calls, write_test


def test_first_run_records_second_replays_without_live(
    project: pytest.Pytester, run: Runner
) -> None:
    write_test(project, BOT_TEST)
    run().assert_outcomes(passed=1)
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

    run().assert_outcomes(passed=1)
    assert live_calls(project) == 1
    assert json.loads(path.read_text()) == recorded


def test_behaviour_change_fails_with_a_diff_naming_the_event(
    project: pytest.Pytester, run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, BOT_TEST)
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
