"""End to end: sequence rules (ordered=per_source / True / False / per_key)."""

from __future__ import annotations

import pytest
from plugin_e2e import Runner, write_test

DESK_TESTS = """
    import os

    import pytest
    from busapp import live_feed

    ORDERS = {
        "": ["A1", "B1", "A2", "B2", "audit"],
        "keys": ["B1", "A1", "B2", "A2", "audit"],      # keys interleave differently
        "within": ["A2", "B1", "A1", "B2", "audit"],    # key A's own order changed
        "sources": ["audit", "A1", "B1", "A2", "B2"],   # sources interleave differently
    }


    @pytest.fixture
    def desk(service_bus):
        def on_tick(tick):
            for step in ORDERS[os.environ.get("SHUFFLE", "")]:
                if step == "audit":
                    service_bus.publish("Audit", {"tick": tick["ts"]}, "audit")
                else:
                    fill = {"order_id": step[0], "step": int(step[1]), "tick": tick["ts"]}
                    service_bus.publish("Fill", fill, "desk")
        service_bus.subscribe("PriceTick", on_tick)


    def run(service_bus, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_per_source(service_bus, desk, event_cassette):
        run(service_bus, event_cassette)


    @pytest.mark.event_cassette(inputs=["PriceTick"], ordered=True)
    def test_global(service_bus, desk, event_cassette):
        run(service_bus, event_cassette)


    @pytest.mark.event_cassette(inputs=["PriceTick"], ordered=False)
    def test_any(service_bus, desk, event_cassette):
        run(service_bus, event_cassette)


    @pytest.mark.event_cassette(
        inputs=["PriceTick"], ordered={"Fill": "per_key:event_data.order_id"}
    )
    def test_per_key(service_bus, desk, event_cassette):
        run(service_bus, event_cassette)
"""


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    return {
        report.nodeid.split("::")[1]: report.outcome
        for report in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        if report.when == "call"
    }


def test_each_sequence_rule_accepts_exactly_the_reorderings_it_allows(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, DESK_TESTS)
    run_inprocess().assert_outcomes(passed=4)
    expected = {
        "keys": {"test_per_source": "failed", "test_global": "failed", "test_per_key": "passed"},
        "within": {"test_per_source": "failed", "test_global": "failed", "test_per_key": "failed"},
        "sources": {"test_per_source": "passed", "test_global": "failed", "test_per_key": "passed"},
    }
    for shuffle, wanted in expected.items():
        monkeypatch.setenv("SHUFFLE", shuffle)
        result = run_inprocess()
        assert outcomes(result) == {**wanted, "test_any": "passed"}, shuffle
        if shuffle == "within":
            result.stdout.fnmatch_lines(
                [
                    "*_ test_per_key _*",
                    "*event differences from cassette cassettes/test_bot/test_per_key.json*",
                    "*'Fill' from source 'desk'*",
                ]
            )


def test_a_bad_rule_fails_naming_the_accepted_ones(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(
        project,
        """
        import pytest

        @pytest.mark.event_cassette(inputs=[], ordered={"Fill": "per_key:order_id"})
        def test_x(service_bus, event_cassette):
            pass
        """,
    )
    result = run_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*ordered=* is not valid: ordered?'Fill'? = 'per_key:order_id': per_key needs a field*"]
    )
