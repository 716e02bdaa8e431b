"""End-to-end: registration (--strict-markers, --fixtures, --help), options and paths."""

from __future__ import annotations

import json
import re

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, write_test

FIXTURE_DOCS = {
    "event_cassette": "This test's cassette: records its bus, or replays the inputs and verifies*",
    "event_recording": "The EventRecorder on this test's bus; saved to the test's cassette*",
    "event_replay": "An EventReplayer for this test's cassette, bound to its bus, with assertion*",
    "event_recorder_config": "Cassette options for every test in scope (override in a conftest*",
    "event_cassette_dir": "Folder of this module's cassettes: <ini dir or test dir/cassettes>*",
}


def test_marker_works_with_strict_markers(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    run_inprocess("--strict-markers").assert_outcomes(passed=1)
    result = run_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.event_cassette(name=None, *, inputs=None, *"])


def test_fixtures_show_their_docstrings(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    result = run_inprocess("--fixtures")
    for name, doc in FIXTURE_DOCS.items():
        result.stdout.fnmatch_lines([f"{name}*", f"    {doc}"])


def test_help_groups_every_option(project: pytest.Pytester, run_inprocess: Runner) -> None:
    result = run_inprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "event cassettes (pytest-eventrecorder):",
            "*--event-record-mode={once,new_episodes,none,all,rewrite}*",
            "*--replay-speed=SPEED*",
            "*--disable-event-recording*",
            "*--record-mode={once,new_episodes,none,all,rewrite}*",
        ]
    )
    for ini in (
        "event_recorder_bus_fixture",
        "event_recorder_cassette_dir",
        "event_recorder_record_mode",
    ):
        result.stdout.fnmatch_lines([f"*{ini} (string):*"])


def test_unknown_marker_option_is_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette(input=["PriceTick"])
        def test_bot_orders(service_bus, event_cassette):
            pass
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.event_cassette on test_bot.py::test_bot_orders: unknown option 'input'"
            " (did you mean 'inputs'?); valid options are name, bus, record_mode, inputs*"
        ]
    )


def test_bad_values_in_the_config_fixture_are_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    project.makeconftest("""
        import pytest
        from busapp import ServiceBus

        @pytest.fixture
        def service_bus():
            return ServiceBus()

        @pytest.fixture
        def event_recorder_config():
            return {"record_mode": "sometimes"}
    """)
    write_test(project, BOT_TEST.replace("bot, ", ""))
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*event_recorder_config fixture: record_mode='sometimes' is not valid: record mode must"
            " be one of once, new_episodes, none, all, rewrite*"
        ]
    )
    assert "During handling of the above exception" not in result.stdout.str()  # said once


def test_default_names_include_class_and_parametrize_ids(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest

        class TestBot:
            @pytest.mark.parametrize("symbol", ["BTC/USD", "ETH"])
            def test_publish(self, service_bus, event_cassette, symbol):
                service_bus.publish("PriceTick", {"symbol": symbol, "price": 1.0}, "feed")
    """,
    )
    run_inprocess().assert_outcomes(passed=2)
    folder = project.path / "cassettes" / "test_bot"
    slashed, plain = sorted(p.name for p in folder.iterdir())
    assert plain == "TestBot.test_publish[ETH].json"
    # "/" is replaced, so a hash of the real id keeps "BTC:USD" from sharing the file
    assert re.fullmatch(r"TestBot\.test_publish\[BTC_USD\]-[0-9a-f]{10}\.json", slashed)


def test_explicit_name_picks_the_format(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette("shared/orders.yaml", inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
            assert event_cassette.path.name == "orders.yaml"
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    path = project.path / "cassettes" / "test_bot" / "shared" / "orders.yaml"
    assert path.read_text().startswith("version: 1")
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)


def test_ini_moves_the_cassette_folder(project: pytest.Pytester, run_inprocess: Runner) -> None:
    project.makeini("""
        [pytest]
        asyncio_default_fixture_loop_scope = function
        event_recorder_cassette_dir = recorded/events
    """)
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    assert (project.path / "recorded/events/test_bot/test_bot_orders.json").is_file()


def test_event_cassette_dir_fixture_moves_the_folder(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.fixture
        def event_cassette_dir(tmp_path_factory, request):
            return request.path.parent / "elsewhere"

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    assert (project.path / "elsewhere" / "test_bot_orders.json").is_file()
    assert not cassette_file(project, "test_bot_orders").exists()


def test_event_replay_fixture(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette("test_bot_orders.json")
        def test_replay_helpers(service_bus, bot, event_replay):
            assert event_replay.get_event_summary() == {"PriceTick": 4, "OrderPlaced": 2}
            event_replay.play(where=lambda e: e.event_name == "PriceTick")
            event_replay.assert_published("OrderPlaced", count=2)
            event_replay.assert_not_published("OrderCancelled")
            with pytest.raises(AssertionError, match="expected 'OrderFilled' published at least"):
                event_replay.assert_published("OrderFilled")

        def test_missing_cassette(service_bus, event_replay):
            pass
    """,
        name="test_bot",
    )
    result = run_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*event_replay: no cassette at *test_missing_cassette.json. event_replay only "
            "replays a cassette: record one with a test that uses the event_cassette fixture*",
        ]
    )


def test_event_replay_counts_only_what_the_code_under_test_published(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """play() replays the recorded orders too: they must not pass for the bot's own."""
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    write_test(
        project,
        """
        import os
        import pytest

        ORDERS = int(os.environ["ORDERS"])

        @pytest.mark.event_cassette("test_bot_orders.json")
        def test_everything_replayed(service_bus, bot, event_replay):
            event_replay.play()
            assert len(event_replay.replayed) == 6
            event_replay.assert_published("OrderPlaced", count=ORDERS)
            assert event_replay.published("PriceTick") == []

        @pytest.mark.event_cassette("test_bot_orders.json", inputs=["PriceTick"])
        def test_inputs_replayed(service_bus, bot, event_replay):
            event_replay.play()
            assert [e.event_name for e in event_replay.replayed] == ["PriceTick"] * 4
            if ORDERS:
                event_replay.assert_published("OrderPlaced", count=ORDERS)
            else:
                event_replay.assert_not_published("OrderPlaced")
    """,
        name="test_bot",
    )
    monkeypatch.setenv("ORDERS", "2")
    run_inprocess().assert_outcomes(passed=2)
    monkeypatch.setenv("BOT_LIMIT", "0")  # the bot now places no order at all
    monkeypatch.setenv("ORDERS", "0")
    run_inprocess().assert_outcomes(passed=2)


def test_report_header_and_metadata(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    result = run_inprocess("--replay-speed=2")
    result.stdout.fnmatch_lines(["event cassettes: record mode once (default), replay speed x2"])
    header = json.loads(cassette_file(project, "test_bot_orders").read_text())
    assert header["session_name"] == "test_bot_orders"
    assert header["total_events"] == 6
