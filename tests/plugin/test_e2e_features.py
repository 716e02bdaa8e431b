"""End-to-end: redaction, hooks, ignore_fields, ordering, inputs, async and the bus fixture."""

from __future__ import annotations

import json

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, conftest_with, live_calls, write_test


def recorded(pytester: pytest.Pytester, test: str = "test_bot_orders") -> list[dict[str, object]]:
    return list(json.loads(cassette_file(pytester, test).read_text())["events"])


def test_redact_replaces_secrets_before_writing_and_in_comparison(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTick"], redact=["api_key", "meta.*"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    text = cassette_file(project, "test_bot_orders").read_text()
    assert "s3cr3t" not in text
    orders = [e for e in recorded(project) if e["event_name"] == "OrderPlaced"]
    assert orders[0]["event_data"]["api_key"] == "[REDACTED]"  # type: ignore[index]
    assert orders[0]["event_data"]["meta"] == {"host": "[REDACTED]"}  # type: ignore[index]
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)


def test_before_record_event_hook_changes_and_drops_events(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    project.makeconftest(
        conftest_with("""
        import dataclasses

        def pytest_eventrecorder_before_record_event(event, item):
            if event.event_name == "PriceTick" and event.event_data["price"] > 100:
                return False
            if event.event_name == "OrderPlaced":
                data = dict(event.event_data, api_key="hidden-by-hook")
                return dataclasses.replace(event, event_data=data)
            return None
    """)
    )
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    events = recorded(project)
    assert [e["event_data"]["price"] for e in events if e["event_name"] == "PriceTick"] == [  # type: ignore[index]
        99.0,
        98.5,
    ]
    assert {e["event_data"]["api_key"] for e in events if e["event_name"] == "OrderPlaced"} == {  # type: ignore[index]
        "hidden-by-hook"
    }
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)


def test_a_failing_before_record_event_drops_the_event_and_fails_the_test(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        def explode(event):
            raise RuntimeError("boom")

        @pytest.mark.event_cassette(before_record_event=explode)
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
            assert event_cassette.events == []
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*a before_record_event hook failed: RuntimeError: boom*"])
    assert not cassette_file(project, "test_bot_orders").exists()


def test_a_before_record_event_answering_true_or_false_keeps_or_drops(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(
            inputs=["PriceTick"], before_record_event=lambda e: e.event_name != "OrderPlaced"
        )
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    names = {e["event_name"] for e in recorded(project)}
    assert "PriceTick" in names
    assert "OrderPlaced" not in names


def test_a_before_record_event_answer_of_another_kind_fails_the_test(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(before_record_event=lambda e: e.event_name)
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*before_record_event returned str; it must return a RecordedEvent, True (keep)*"]
    )
    assert not cassette_file(project, "test_bot_orders").exists()


@pytest.mark.parametrize(
    ("ignore", "outcome"), [("['order_id', 'meta.*']", "passed"), ("['order_id']", "failed")]
)
def test_ignore_fields(
    project: pytest.Pytester,
    run_inprocess: Runner,
    monkeypatch: pytest.MonkeyPatch,
    ignore: str,
    outcome: str,
) -> None:
    write_test(
        project,
        f"""
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields={ignore})
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_ID_PREFIX", "zz")
    monkeypatch.setenv("BOT_HOST", "b")
    result = run_inprocess()
    result.assert_outcomes(**{outcome: 1})
    if outcome == "failed":
        result.stdout.fnmatch_lines(["*event_data.meta.host: 'a' != 'b'"])
        assert "order_id" not in result.stdout.str()


SWAPPING_BOT = """
    import os
    import pytest
    from busapp import live_feed

    @pytest.fixture
    def risk(service_bus):
        def on_tick(tick):
            names = ["RiskChecked", "ExposureUpdated"]
            if os.environ.get("BOT_SWAP"):
                names.reverse()
            for name in names:
                service_bus.publish(name, {{"price": tick["price"]}}, "risk")
        service_bus.subscribe("PriceTick", on_tick)

    @pytest.mark.event_cassette(inputs=["PriceTick"]{extra})
    def test_bot_orders(service_bus, risk, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


@pytest.mark.parametrize(("extra", "outcome"), [("", "failed"), (", ordered=False", "passed")])
def test_ordered_false_accepts_a_new_order(
    project: pytest.Pytester,
    run_inprocess: Runner,
    monkeypatch: pytest.MonkeyPatch,
    extra: str,
    outcome: str,
) -> None:
    write_test(project, SWAPPING_BOT.format(extra=extra))
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_SWAP", "1")
    run_inprocess().assert_outcomes(**{outcome: 1})


def test_without_inputs_play_replays_everything_and_verifies_nothing(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(
        project,
        """
        from busapp import live_feed

        def test_bot_orders(service_bus, bot, event_cassette):
            result = event_cassette.play(live=lambda: live_feed(service_bus))
            if event_cassette.mode == "replay":
                assert result.published == 6
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "0")
    run_inprocess().assert_outcomes(passed=1)
    assert live_calls(project) == 1


def test_empty_inputs_is_a_golden_master(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=[])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: None)
            live_feed(service_bus)
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "99")
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing 'OrderPlaced' from source 'bot'*"])


def test_inputs_may_be_a_predicate(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=lambda e: e.source == "feed")
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
            assert len(bot.orders) == 2
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    run_inprocess().assert_outcomes(passed=1)
    assert live_calls(project) == 1


ASYNC_TEST = """
    import pytest
    from busapp import AsyncBot, AsyncBus, live_feed_async

    @pytest.fixture
    def service_bus():
        return AsyncBus()

    @pytest.mark.asyncio
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    async def test_bot_orders(service_bus, event_cassette):
        bot = AsyncBot(service_bus)
        await event_cassette.play_async(live=lambda: live_feed_async(service_bus))
        assert len(bot.orders) == 2
"""


def test_async_bus_records_replays_and_detects_changes(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, ASYNC_TEST)
    run_inprocess().assert_outcomes(passed=1)
    assert [e["event_name"] for e in recorded(project)].count("OrderPlaced") == 2
    run_inprocess().assert_outcomes(passed=1)
    assert live_calls(project) == 1
    monkeypatch.setenv("BOT_LIMIT", "99")
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing 'OrderPlaced'*"])


def test_sync_play_on_an_async_bus_says_to_await_play_async(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, ASYNC_TEST)
    run_inprocess().assert_outcomes(passed=1)
    write_test(
        project,
        """
        import pytest
        from busapp import AsyncBus

        @pytest.fixture
        def service_bus():
            return AsyncBus()

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, event_cassette):
            event_cassette.play()
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*use `await event_cassette.play_async()`*"])


def test_missing_bus_fixture_is_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette(bus="trading_bus")
        def test_bot_orders(event_cassette):
            pass
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*event_cassette needs the test's bus from a fixture named 'trading_bus', and there is"
            " none.*ini option event_recorder_bus_fixture (default 'service_bus')*"
        ]
    )
    assert "During handling of the above exception" not in result.stdout.str()  # said once


def test_ini_names_the_bus_fixture(project: pytest.Pytester, run_inprocess: Runner) -> None:
    project.makeini("""
        [pytest]
        asyncio_default_fixture_loop_scope = function
        event_recorder_bus_fixture = trading_bus
    """)
    write_test(
        project,
        """
        import pytest
        from busapp import Bot, ServiceBus, live_feed

        @pytest.fixture
        def trading_bus():
            return ServiceBus()

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(trading_bus, event_cassette, event_recording):
            bot = Bot(trading_bus)
            event_cassette.play(live=lambda: live_feed(trading_bus))
            assert event_recording is event_cassette.recorder
            assert [e.event_name for e in event_recording.events].count("OrderPlaced") == 2
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    run_inprocess().assert_outcomes(passed=1)


def test_a_cassette_recording_nothing_is_flagged_at_once(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play()  # forgot live=
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*EventCassetteWarning: cassettes/test_bot/test_bot_orders.json: recorded no events:"
            " is the 'service_bus' fixture the bus your code publishes on*"
        ]
    )


def test_inputs_the_test_never_published_are_flagged_when_recording_and_replaying(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTik"])
        def test_bot_orders(service_bus, bot, event_cassette):
            event_cassette.play(live=lambda: live_feed(service_bus))
    """,
    )
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*note: inputs names 'PriceTik', which this cassette never holds (it holds: *PriceTick)*"]
    )
    result = run_inprocess("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*note: inputs names 'PriceTik', which this cassette never*"])


def test_the_marker_alone_records_and_verifies(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No cassette fixture asked for: the test publishes its inputs, the marker does the rest."""
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot):
            live_feed(service_bus)
    """,
    )
    run_inprocess().assert_outcomes(passed=1)
    names = [e["event_name"] for e in recorded(project)]
    assert names.count("PriceTick") == 4
    assert names.count("OrderPlaced") == 2
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "0")
    result = run_inprocess("--record-mode=none")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*missing 'OrderPlaced' from source 'bot'*"])


def test_a_conftest_hook_answer_of_another_kind_fails_the_test_saying_what_none_means(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    project.makeconftest(
        conftest_with("""
        def pytest_eventrecorder_before_record_event(event, item):
            return 42
    """)
    )
    write_test(project, BOT_TEST)
    result = run_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest_eventrecorder_before_record_event returned int; it must return a"
            " RecordedEvent, True (keep) or False (drop) or None (no opinion)*"
        ]
    )
