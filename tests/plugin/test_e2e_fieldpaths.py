"""End-to-end: the marker's field paths read as the report prints them, and a path that
names no field is a warning that names it."""

from __future__ import annotations

import pytest
from plugin_e2e import Runner, write_test

MARKED = """
    import pytest
    from busapp import live_feed

    @pytest.mark.event_cassette(inputs=["PriceTick"], {options})
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


def test_ignore_fields_accept_the_path_the_report_prints(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, MARKED.format(options="ignore_fields=['event_data.order_id']"))
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_ID_PREFIX", "zz")
    result = run_inprocess("-W", "error::pytest_eventrecorder.EventCassetteWarning")
    result.assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_HOST", "b")
    failed = run_inprocess()
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*event_data.meta.host: 'a' != 'b'"])
    assert "order_id" not in failed.stdout.str()


def test_an_ignored_path_that_names_nothing_is_a_warning_naming_it(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, MARKED.format(options="ignore_fields=['event_data.orderid', 'qty']"))
    run_inprocess().assert_outcomes(passed=1)
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        ["*EventCassetteWarning*ignore_fields path 'event_data.orderid' matches no field*"]
    )
    assert "'qty'" not in result.stdout.str()


def test_a_redact_path_that_names_nothing_is_a_warning_naming_it(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, MARKED.format(options="redact=['event_data.api_key', 'apikey']"))
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*EventCassetteWarning*redact path 'apikey' matches no field*"])


def test_match_on_compares_only_the_named_paths_and_warns_about_one_naming_nothing(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = "match_on=['event_name', 'event_data.price', 'event_data.pricee']"
    write_test(project, MARKED.format(options=options))
    run_inprocess().assert_outcomes(passed=1)
    monkeypatch.setenv("BOT_HOST", "b")  # meta.host is not compared
    result = run_inprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*match_on path 'event_data.pricee' matches no field*"])
