"""End-to-end: every record mode, CI=true, precedence and --disable-event-recording."""

from __future__ import annotations

import json

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, live_calls, write_test

from pytest_eventrecorder.pytest_plugin.options import RECORD_MODES

ORDER_COUNT = """
    import pytest
    from busapp import live_feed


    @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields=["order_id"])
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert len(bot.orders) >= 2
"""

# With the limit raised, the bot also buys at 101.0: one output the cassette never saw.
OUTCOME_AFTER_EXTRA_ORDER = {
    "once": ("failed", 1),
    "none": ("failed", 1),
    "new_episodes": ("passed", 1),
    "all": ("passed", 2),
    "rewrite": ("passed", 2),
}


def orders_in(path_text: str) -> list[float]:
    events = json.loads(path_text)["events"]
    return [e["event_data"]["price"] for e in events if e["event_name"] == "OrderPlaced"]


def test_the_outcome_table_covers_every_record_mode() -> None:
    assert set(OUTCOME_AFTER_EXTRA_ORDER) == set(RECORD_MODES)


@pytest.mark.parametrize("mode", RECORD_MODES)
def test_record_mode_with_an_existing_cassette(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    write_test(project, ORDER_COUNT)
    run_inprocess().assert_outcomes(passed=1)
    path = cassette_file(project, "test_bot_orders")
    before = path.read_text()
    monkeypatch.setenv("BOT_LIMIT", "101.5")

    result = run_inprocess(f"--record-mode={mode}")

    outcome, calls = OUTCOME_AFTER_EXTRA_ORDER[mode]
    result.assert_outcomes(**{outcome: 1})
    assert live_calls(project) == calls
    if outcome == "failed":
        result.stdout.fnmatch_lines(["*unexpected 'OrderPlaced' from source 'bot': #0*"])
        assert path.read_text() == before
    else:
        assert orders_in(path.read_text()) == [101.0, 99.0, 98.5]
        run_inprocess("--record-mode=none").assert_outcomes(passed=1)


@pytest.mark.parametrize("mode", RECORD_MODES)
def test_record_mode_without_a_cassette(
    project: pytest.Pytester, run_inprocess: Runner, mode: str
) -> None:
    write_test(project, BOT_TEST)
    result = run_inprocess(f"--record-mode={mode}")
    path = cassette_file(project, "test_bot_orders")
    if mode == "none":
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "*no cassette at cassettes/test_bot/test_bot_orders.json and record mode is*",
                "*Record it with: pytest test_bot.py::test_bot_orders --record-mode=once",
            ]
        )
        assert not path.exists()
        assert live_calls(project) == 0
    else:
        result.assert_outcomes(passed=1)
        assert orders_in(path.read_text()) == [99.0, 98.5]


def test_new_episodes_places_a_new_output_right_after_the_input_it_answered(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, ORDER_COUNT)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "101.5")
    run_inprocess("--record-mode=new_episodes").assert_outcomes(passed=1)
    events = json.loads(cassette_file(project, "test_bot_orders").read_text())["events"]
    steps = [(e["event_name"], e["event_data"]["price"]) for e in events]
    new = steps.index(("OrderPlaced", 101.0))
    assert steps[new - 1] == ("PriceTick", 101.0)
    assert events[new]["timestamp_offset_ms"] > events[new - 1]["timestamp_offset_ms"]


TWO_PLAYS = """
    import os
    import pytest


    def ticks(bus, *prices):
        for price in prices:
            bus.publish("PriceTick", {"symbol": "X", "price": price}, "feed")


    @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields=["order_id"])
    def test_two_phases(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: ticks(service_bus, 101.0, 99.0))
        assert len(bot.orders) == 1  # only the first part was replayed so far
        event_cassette.play(live=lambda: ticks(service_bus, 98.5, 102.0))
        assert len(bot.orders) == 2
        for _ in range(int(os.environ.get("EXTRA_PLAYS", "0"))):
            event_cassette.play()
"""


def test_each_play_call_replays_its_own_part_of_the_cassette(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TWO_PLAYS)
    run_inprocess().assert_outcomes(passed=1)
    cassette = json.loads(cassette_file(project, "test_two_phases").read_text())
    offsets = [e["timestamp_offset_ms"] for e in cassette["events"]]
    first, second = cassette["metadata"]["plays"]
    assert first <= offsets[0]
    assert offsets[2] < second <= offsets[3]
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)
    monkeypatch.setenv("EXTRA_PLAYS", "1")
    result = run_inprocess("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*play() was called 3 times, but the cassette was recorded with 2 play() call(s)*"]
    )


def test_new_episodes_keeps_each_play_calls_part_whole(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new output added in part 1 must not push part 1's last input out of every part."""
    write_test(
        project,
        """
        import pytest


        def ticks(bus, *prices):
            for price in prices:
                bus.publish("PriceTick", {"symbol": "X", "price": price}, "feed")


        @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields=["order_id"])
        def test_two_phases(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: ticks(service_bus, 101.0, 99.0, 102.0))
            assert bot.prices == [101.0, 99.0, 102.0]
            event_cassette.play(live=lambda: ticks(service_bus, 98.5))
            assert bot.prices == [101.0, 99.0, 102.0, 98.5]
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "101.5")  # the bot now also buys at 101.0, in part 1
    run_inprocess("--record-mode=new_episodes").assert_outcomes(passed=1)
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)
    events = json.loads(cassette_file(project, "test_two_phases").read_text())["events"]
    orders = [e["event_data"]["price"] for e in events if e["event_name"] == "OrderPlaced"]
    assert orders == [101.0, 99.0, 98.5]


@pytest.mark.parametrize("plays", ["nonsense", [5.0, 1.0], [-1.0], [], [True], [[0, 1.0]]])
def test_a_hand_edited_plays_list_is_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner, plays: object
) -> None:
    write_test(project, TWO_PLAYS)
    run_inprocess().assert_outcomes(passed=1)
    path = cassette_file(project, "test_two_phases")
    document = json.loads(path.read_text())
    document["metadata"]["plays"] = plays
    path.write_text(json.dumps(document))
    result = run_inprocess("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_two_phases.json: metadata.plays must list, in order, the offsets (ms) at which*"
            "re-record it with: pytest test_bot.py::test_two_phases --record-mode=all"
        ]
    )


def test_new_episodes_still_fails_on_a_missing_output(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, ORDER_COUNT)
    run_inprocess().assert_outcomes(passed=1)
    before = cassette_file(project, "test_bot_orders").read_text()
    monkeypatch.setenv("BOT_LIMIT", "99")
    result = run_inprocess("--record-mode=new_episodes")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing 'OrderPlaced'*"])
    assert cassette_file(project, "test_bot_orders").read_text() == before


def test_ci_true_defaults_to_replay_only(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, BOT_TEST)
    monkeypatch.setenv("CI", "true")
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*event cassettes: record mode none (CI is set), replay speed instant",
            "*no cassette at * and CI is set, which makes 'none' the default record mode*",
            "*Record it with: pytest test_bot.py::test_bot_orders --record-mode=once",
        ]
    )
    assert not cassette_file(project, "test_bot_orders").exists()
    run_inprocess("--record-mode=once").assert_outcomes(passed=1)
    run_inprocess().assert_outcomes(passed=1)


def test_precedence_cli_over_marker_over_config_over_ini(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    project.makeini("""
        [pytest]
        asyncio_default_fixture_loop_scope = function
        event_recorder_record_mode = none
    """)
    project.makeconftest("""
        import pytest
        from busapp import Bot, ServiceBus

        @pytest.fixture
        def service_bus():
            return ServiceBus()

        @pytest.fixture
        def bot(service_bus):
            return Bot(service_bus)

        @pytest.fixture
        def event_recorder_config():
            return {"record_mode": "once", "inputs": ["PriceTick"]}
    """)
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        def test_config_beats_ini(service_bus, bot, event_cassette):
            assert event_cassette.options.record_mode == "once"
            assert event_cassette.options.inputs == ("PriceTick",)
            event_cassette.play(live=lambda: live_feed(service_bus))

        @pytest.mark.event_cassette(record_mode="none")
        def test_marker_beats_config(service_bus, event_cassette):
            assert event_cassette.is_recording
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_marker_beats_config*no cassette at*"])
    assert cassette_file(project, "test_config_beats_ini").exists()
    run_inprocess("--record-mode=once").assert_outcomes(passed=2)
    assert cassette_file(project, "test_marker_beats_config").exists()


def test_disable_event_recording_runs_live(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    path = cassette_file(project, "test_bot_orders")
    path.write_text(path.read_text().replace('"OrderPlaced"', '"Renamed"'))
    result = run_inprocess("--disable-event-recording")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*event cassettes: disabled (running live)*"])
    assert live_calls(project) == 2
    assert '"Renamed"' in path.read_text()


def test_a_failing_test_does_not_save_its_recording(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
            assert len(bot.orders) == 5
    """,
    )
    run_inprocess().assert_outcomes(failed=1)
    assert not cassette_file(project, "test_bot_orders").exists()


def test_bad_replay_speed_is_a_usage_error(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    result = run_inprocess("--replay-speed=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--replay-speed*speed must be a positive number*"])


@pytest.mark.parametrize(
    ("marker", "cli", "expected"),
    [
        ("", (), "5"),
        ("speed=50", (), "50"),
        ("speed=50", ("--replay-speed=500",), "500"),
        ("", ("--replay-speed=instant",), "inf"),
    ],
)
def test_replay_speed_precedence(
    project: pytest.Pytester,
    run_inprocess: Runner,
    monkeypatch: pytest.MonkeyPatch,
    marker: str,
    cli: tuple[str, ...],
    expected: str,
) -> None:
    project.makeconftest("""
        import pytest
        from busapp import ServiceBus

        @pytest.fixture
        def service_bus():
            return ServiceBus()

        @pytest.fixture
        def event_recorder_config():
            return {"speed": 5}
    """)
    write_test(
        project,
        f"""
        import os
        import pytest

        @pytest.mark.event_cassette({marker})
        def test_speed(service_bus, event_cassette):
            assert event_cassette.options.speed == float(os.environ["EXPECTED_SPEED"])
    """,
    )
    monkeypatch.setenv("EXPECTED_SPEED", expected)
    run_inprocess(*cli).assert_outcomes(passed=1)


def test_a_broken_cassette_is_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, BOT_TEST)
    path = cassette_file(project, "test_bot_orders")
    path.parent.mkdir(parents=True)
    path.write_text('{"events": [{"event_name": "PriceTick"}]}')
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*cannot replay the cassette: *test_bot_orders.json*required field is missing*",
            "*re-record it with: pytest test_bot.py::test_bot_orders --record-mode=all",
        ]
    )
    assert "During handling of the above exception" not in result.stdout.str()  # said once
