"""How a replay captures the outputs it verifies: once each, with their causes, whichever
way they reach the recorder."""

from __future__ import annotations

import re

import pytest
from plugin_e2e import Runner, write_test

from pytest_eventrecorder import EventRecorder, RecordedEvent
from pytest_eventrecorder.adapters.base import redaction_of
from pytest_eventrecorder.pytest_plugin.session import _Outputs
from pytest_eventrecorder.serialize import DEFAULT_REDACT_KEYS, Redaction

TESTS = """
    import pytest
    from busapp import live_feed

    CAUSES = {"manual": []}


    @pytest.fixture
    def noting_bot(service_bus, event_recording, bot):
        def on_tick(tick):
            if tick["ts"] == 1:  # recorded by hand while an input is handled
                event_recording.record("Note", {"ts": 1}, "notes")
        service_bus.subscribe("PriceTick", on_tick)


    def causes(events):
        return [(e.event_name, (e.metadata or {}).get("caused_by")) for e in events]


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_plain(service_bus, noting_bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        with event_cassette.muted():
            service_bus.publish("Muted", {}, "bot")
        if not event_cassette.is_recording:
            print("HOOK", event_cassette.recorder.before_record is None)
            print("CAUSES", causes(event_cassette.outputs))


    @pytest.mark.event_cassette(inputs=["PriceTick"], redact_keys=["caused"])
    def test_redacting_the_cause_key(service_bus, noting_bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        if not event_cassette.is_recording:
            print("HOOK", event_cassette.recorder.before_record is None)
            print("CAUSES", causes(event_cassette.outputs))


    @pytest.mark.event_cassette(inputs=["PriceTick"], before_record_event=lambda e: e)
    def test_with_a_hook(service_bus, noting_bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        if not event_cassette.is_recording:
            print("HOOK", event_cassette.recorder.before_record is None)
            print("CAUSES", causes(event_cassette.outputs))
"""

CAUSES = "CAUSES [('OrderPlaced', 1), ('Note', 1), ('OrderPlaced', 4)]"


@pytest.fixture
def replayed(project: pytest.Pytester, run_inprocess: Runner) -> pytest.RunResult:
    write_test(project, TESTS)
    run_inprocess().assert_outcomes(passed=3)
    result = run_inprocess("-s", "--record-mode=none")
    result.assert_outcomes(passed=3)
    return result


def printed(result: pytest.RunResult, what: str) -> list[str]:
    """The lines the inner tests printed, starting with ``what`` (a progress dot may
    precede one on its line)."""
    return re.findall(rf"{what} .*", result.stdout.str())


def test_a_plain_replay_needs_no_before_record_hook(replayed: pytest.RunResult) -> None:
    """Without one the recorder snapshots each output once (a hook costs it a second)."""
    assert printed(replayed, "HOOK")[0] == "HOOK True"


def test_every_replay_notes_the_same_causes_muted_or_recorded_by_hand(
    replayed: pytest.RunResult,
) -> None:
    assert printed(replayed, "CAUSES") == [CAUSES] * 3


def test_a_hook_or_a_redaction_of_the_cause_key_keeps_the_recorder_hook(
    replayed: pytest.RunResult,
) -> None:
    assert printed(replayed, "HOOK")[1:] == ["HOOK False", "HOOK False"]


GC_TESTS = """
    import gc

    import pytest
    from busapp import live_feed
    from pytest_eventrecorder.matchers import Matcher

    SEEN = []


    class Noting(Matcher):
        def matches(self, recorded, actual):
            SEEN.append(gc.isenabled())
            return recorded == actual


    @pytest.mark.event_cassette(inputs=["PriceTick"], matchers={"qty": Noting()})
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    def test_after():
        print("COLLECTOR", SEEN, gc.isenabled())
"""


@pytest.mark.parametrize("timed", [True, False])
def test_latencies_are_measured_only_for_a_latency_budget(timed: bool) -> None:
    from pytest_eventrecorder.cassette import Cassette, RecordedEvent
    from pytest_eventrecorder.causality import handling
    from pytest_eventrecorder.pytest_plugin.causes import CauseNotes

    tick = RecordedEvent(0, "Tick", {}, "feed")
    cassette = Cassette.build("c", [tick])
    notes = CauseNotes(False, True, lambda e: e.event_name == "Tick", cassette, timed=timed)
    with handling(tick, owner=None):
        assert notes.cause_now() == 0
    assert list(notes.latencies) == ([0] if timed else [])


class CapturingBus:
    """An adapter that only keeps the sink it is given."""

    name = "capturing"

    def __init__(self) -> None:
        self.sink: object = None

    def attach(self, sink: object) -> None:
        self.sink = sink

    def detach(self) -> None:
        """Nothing to undo."""

    def publish(self, event: RecordedEvent, payload: object) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release."""


def test_the_outputs_sink_passes_the_recorders_redaction_on_to_the_adapter() -> None:
    """A broker adapter keeps a payload's bytes unless the redaction it learns hides a value."""
    custom = Redaction([*DEFAULT_REDACT_KEYS, "ssn"])
    bus = CapturingBus()
    recorder = EventRecorder("s", redaction=custom)
    _Outputs(bus, frozenset(), None, None).attach(recorder._keep)  # type: ignore[arg-type]
    assert redaction_of(bus.sink) is custom  # type: ignore[arg-type]


def test_a_cause_is_read_from_the_raw_mark(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once per output: no Handling is built from the mark to read it."""
    from pytest_eventrecorder.cassette import Cassette
    from pytest_eventrecorder.causality import Handling, handling
    from pytest_eventrecorder.pytest_plugin.causes import CauseNotes

    def refused(_mark: object) -> Handling:
        raise AssertionError("a Handling was built")

    tick = RecordedEvent(0, "Tick", {}, "feed")
    notes = CauseNotes(False, True, lambda e: e.event_name == "Tick", Cassette.build("c", [tick]))
    monkeypatch.setattr(Handling, "_make", refused)
    with handling(tick, owner=None):
        assert notes.cause_now() == 0


HALT_TESTS = """
    import pytest
    from busapp import live_feed
    from pytest_eventrecorder import EventRecorder


    @pytest.fixture(autouse=True)
    def no_events_handed_back(monkeypatch):
        def refused(self):
            raise AssertionError("stop_recording() built the events only to drop them")
        monkeypatch.setattr(EventRecorder, "stop_recording", refused)


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


UNBUILT_TESTS = """
    import pytest
    from busapp import live_feed
    from pytest_eventrecorder import EventRecorder


    @pytest.fixture
    def unbuilt(monkeypatch, request):
        if request.config.getoption("record_mode") == "none":
            def refused(self):
                raise AssertionError("the events were built")
            monkeypatch.setattr(EventRecorder, "_built_events", refused)


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_bot_orders(service_bus, bot, unbuilt, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


@pytest.mark.parametrize(
    "tests",
    [HALT_TESTS, UNBUILT_TESTS],
    ids=["teardown-detaches-without-stop_recording", "unchanged-replay-verified-unbuilt"],
)
def test_no_event_is_built_only_to_be_dropped(
    project: pytest.Pytester, run_inprocess: Runner, tests: str
) -> None:
    """Teardown halts the recorder, and an unchanged replay is verified from what the
    recorder kept: neither builds a ``RecordedEvent`` per event to throw it away."""
    write_test(project, tests)
    run_inprocess().assert_outcomes(passed=1)
    run_inprocess("--record-mode=none").assert_outcomes(passed=1)


@pytest.mark.parametrize("recorded", [1.0, True, "1"])
def test_a_recorded_cause_that_is_no_index_is_left_to_the_full_comparison(
    recorded: object,
) -> None:
    """``caused_by`` read as ``cause_of`` reads it: only an int is a cause."""
    from pytest_eventrecorder.pytest_plugin.causes import outputs_in_step

    expected = [RecordedEvent(0, "Out", {"x": 1}, "bot", None, {"caused_by": recorded})]
    actual = [("Out", "bot", {"x": 1}, {"caused_by": 1})]
    match_on = ("event_name", "source", "event_data")
    assert not outputs_in_step(expected, actual, match_on)


IN_STEP_GC_TESTS = """
    import gc

    import pytest
    from busapp import live_feed
    from pytest_eventrecorder.pytest_plugin import session

    SEEN = []


    @pytest.fixture
    def noting(monkeypatch):
        real = session.outputs_in_step

        def noted(*args):
            SEEN.append(gc.isenabled())
            return real(*args)

        monkeypatch.setattr(session, "outputs_in_step", noted)


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_bot_orders(service_bus, bot, noting, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    def test_after():
        print("COLLECTOR", SEEN, gc.isenabled())
"""


@pytest.mark.parametrize(
    ("tests", "seen"),
    [(GC_TESTS, "[False, False]"), (IN_STEP_GC_TESTS, "[False]")],
    ids=["by-matchers", "in-step"],
)
def test_the_collector_rests_while_outputs_are_compared(
    project: pytest.Pytester, run_inprocess: Runner, tests: str, seen: str
) -> None:
    """Comparing builds events and views without cycles (and, in step, a tuple per output):
    a collection meanwhile would only walk the whole cassette again, and at 100k events the
    ones they set off did, again and again. It runs again afterwards."""
    write_test(project, tests)
    run_inprocess().assert_outcomes(passed=2)
    result = run_inprocess("-s", "--record-mode=none")
    result.assert_outcomes(passed=2)
    assert printed(result, "COLLECTOR") == [f"COLLECTOR {seen} True"]
