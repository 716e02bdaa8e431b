"""End-to-end: only a test that passes saves its cassette; a replay that crashed reports the
crash, not a diff; a live run still shows what the bus carried; shared cassettes."""

from __future__ import annotations

import pytest
from plugin_e2e import BOT_TEST, Runner, cassette_file, conftest_with, write_test

FAILING_TEARDOWN = """

    @pytest.fixture
    def flaky_cleanup():
        yield
        raise RuntimeError("cleanup failed")
"""


@pytest.mark.parametrize(
    "fixtures",
    [
        "flaky_cleanup, service_bus, bot, event_cassette",
        "service_bus, bot, event_cassette, flaky_cleanup",
    ],
    ids=["set-up-before", "set-up-after"],
)
def test_a_test_with_a_failing_teardown_saves_no_cassette(
    project: pytest.Pytester, run_inprocess: Runner, fixtures: str
) -> None:
    project.makeconftest(conftest_with(FAILING_TEARDOWN))
    write_test(project, BOT_TEST.replace("service_bus, bot, event_cassette", fixtures))
    result = run_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    assert not cassette_file(project, "test_bot_orders").exists()


def test_a_passing_teardown_still_saves(project: pytest.Pytester, run_inprocess: Runner) -> None:
    write_test(project, BOT_TEST)
    run_inprocess().assert_outcomes(passed=1)
    assert cassette_file(project, "test_bot_orders").is_file()


CRASHING_BOT = """
    import os

    import pytest
    from busapp import live_feed


    @pytest.fixture
    def crashing(service_bus):
        def on_tick(tick):
            if os.environ.get("CRASH_AT") == str(tick["price"]):
                raise ZeroDivisionError("the bot divided by zero")
        service_bus.subscribe("PriceTick", on_tick)


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_bot_orders(service_bus, bot, crashing, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert len(bot.orders) == 2
"""


def test_a_replay_that_crashed_reports_the_exception_not_a_diff(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, CRASHING_BOT)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("CRASH_AT", "99.0")  # the second tick: its order is never placed

    result = run_inprocess()

    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ZeroDivisionError: the bot divided by zero" in out
    assert "def on_tick" in out  # the subscriber's traceback
    result.stdout.fnmatch_lines(
        ["*the replay stopped at input #2 of 4 ('PriceTick'*): publishing it raised*"]
    )
    assert out.index("ZeroDivisionError") < out.index("the replay stopped")
    assert "missing 'OrderPlaced'" not in out
    assert "re-record" not in out


def test_a_crash_the_test_swallowed_still_leads_the_report(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(
        project,
        CRASHING_BOT.replace(
            "event_cassette.play(live=lambda: live_feed(service_bus))",
            "try:\n            event_cassette.play(live=lambda: live_feed(service_bus))\n"
            "        except ZeroDivisionError:\n            pass",
        ).replace("assert len(bot.orders) == 2", "pass"),
    )
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("CRASH_AT", "99.0")

    result = run_inprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the replay stopped at input #2 of 4 ('PriceTick'*): publishing it raised*",
            "*Traceback (most recent call last):*",
            "*ZeroDivisionError: the bot divided by zero*",
        ]
    )
    assert "missing 'OrderPlaced'" not in result.stdout.str()
    assert "re-record" not in result.stdout.str()


def test_a_live_run_still_shows_what_the_bus_carried(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest
        from busapp import live_feed

        @pytest.mark.event_cassette(inputs=["PriceTick"])
        def test_bot_orders(service_bus, bot, event_cassette, event_recording):
            event_cassette.play(live=lambda: live_feed(service_bus))
            names = [e.event_name for e in event_recording.events]
            assert names.count("PriceTick") == 4 and names.count("OrderPlaced") == 2
            assert len(event_cassette.events) == 6
    """,
    )
    run_inprocess("--disable-event-recording").assert_outcomes(passed=1)
    assert not cassette_file(project, "test_bot_orders").exists()


def test_another_modules_cassette_is_shown_by_its_clean_path(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, BOT_TEST, name="test_orders")
    run_inprocess("test_orders.py").assert_outcomes(passed=1)
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette("../test_orders/test_bot_orders", inputs=["PriceTick"])
        def test_reuses(service_bus, bot, event_cassette):
            event_cassette.play()
    """,
        name="test_shop",
    )
    run_inprocess("test_shop.py").assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_LIMIT", "101.5")  # one more order: a difference to report
    result = run_inprocess("test_shop.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*from cassette cassettes/test_orders/test_bot_orders.json*"])
    assert "/../" not in result.stdout.str()


ASYNC_CRASHING_BOT = """
    import os

    import pytest
    from busapp import AsyncBot, AsyncBus, live_feed_async


    @pytest.fixture
    def service_bus():
        return AsyncBus()


    @pytest.mark.asyncio
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    async def test_bot_orders(service_bus, event_cassette):
        async def on_tick(tick):
            if os.environ.get("CRASH_AT") == str(tick["price"]):
                raise ZeroDivisionError("the bot divided by zero")
        service_bus.subscribe("PriceTick", on_tick)
        bot = AsyncBot(service_bus)
        await event_cassette.play_async(live=lambda: live_feed_async(service_bus))
        assert len(bot.orders) == 2
"""


def test_an_async_replay_that_crashed_reports_where(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, ASYNC_CRASHING_BOT)
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("CRASH_AT", "98.5")

    result = run_inprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ZeroDivisionError: the bot divided by zero",
            "*the replay stopped at input #3 of 4 ('PriceTick'*): publishing it raised*",
        ]
    )
    assert "missing 'OrderPlaced'" not in result.stdout.str()
