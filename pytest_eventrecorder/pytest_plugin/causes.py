"""A cassette's causes: each output recorded with the input being handled when it was
published (``metadata.caused_by``), and verified input by input (see
:mod:`pytest_eventrecorder.causality`)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from ..cassette import Cassette, RecordedEvent
from ..causality import (
    CAUSED_BY,
    begin_handling,
    end_handling,
    has_causes,
    marked_now,
    match_by_cause,
    with_cause,
)
from ..compare import Comparison, match_events, same_value
from ..recorder import Fields
from .latency import Budget, Latencies, slow_outputs
from .options import InputSelector


class CauseNotes:
    """Notes causes on the events one test's recorder keeps.

    Recording, an input published live marks itself as handled (with its index in the
    cassette) until the next input; replaying, the replayer marks each input it publishes,
    and the cause is that input's index in the cassette being replayed.
    """

    def __init__(
        self,
        recording: bool,
        selects: bool,
        is_input: InputSelector,
        cassette: Cassette | None,
        *,
        timed: bool = True,
    ) -> None:
        self.recording = recording
        self.timed = timed
        """Whether latencies are measured (only a latency budget reads them)."""
        self.selects = selects
        """Whether ``inputs=`` was given (without it nothing is an output)."""
        self.is_input = is_input
        self.kept = 0
        self.latencies: dict[int, list[float]] = {}
        """Per replayed input's index, ms from its publish to each output it caused."""
        self.cassette = cassette
        self.replayed = (
            {}
            if cassette is None
            else {id(e): i for i, e in enumerate(cassette.events) if is_input(e)}
        )

    def noted(self, event: RecordedEvent) -> RecordedEvent:
        """``event`` as the recorder should keep it: with its cause, if it is an output."""
        index, self.kept = self.kept, self.kept + 1
        if not self.selects:
            return event
        if self.is_input(event):  # replayed inputs are recorded too, never as their own effect
            if self.recording:
                begin_handling(event, self, index)
            return event
        cause = self.cause_now()
        return event if cause is None else with_cause(event, cause)

    def cause_now(self) -> int | None:
        """The index of the input being handled now, if it is one of this cassette's: an
        output published now is its effect (and, replaying, its latency is noted)."""
        now = marked_now()
        if now is None:
            return None
        # The raw mark, unpacked: a Handling built from it for every output cost 0.3 us.
        event, owner, at_ns, position = now
        if owner is self:
            return position
        cause = self.replayed.get(id(event))
        if cause is not None and self.timed:
            took_ms = (time.perf_counter_ns() - at_ns) / 1e6
            self.latencies.setdefault(cause, []).append(took_ms)
        return cause

    def slow(
        self, budget: Budget | None, comparison: Comparison, captured: Sequence[RecordedEvent]
    ) -> str | None:
        """The report of outputs slower than ``budget`` in this replay, if any."""
        if budget is None or self.cassette is None:
            return None
        expected = [e for e in self.cassette.events if not self.is_input(e)]
        actual = [e for e in captured if not self.is_input(e)]
        measured = Latencies(self.latencies)
        return slow_outputs(
            budget, self.cassette.events, expected, actual, comparison.pairs, measured
        )

    def stop(self) -> None:
        """Forget the live input this test marked (it must not cause a later test's events)."""
        end_handling(self)


_WHOLE_FIELDS = {"event_name": 0, "source": 1, "event_data": 2}
"""The fields a ``match_on`` may compare for :func:`outputs_in_step`, and where
:data:`~..recorder.Fields` holds each."""


def outputs_in_step(
    expected: Sequence[RecordedEvent], actual: Sequence[Fields], match_on: Sequence[str]
) -> bool:
    """Whether each captured output (its :data:`~..recorder.Fields`) is the recorded one at
    its position, with the same cause: then :func:`compare_outputs` finds no difference
    when nothing but ``match_on`` (top-level fields compared whole) judges them. One
    ``same_value`` of two lists, no event built: a third of a 1,000-event verification."""
    if len(expected) != len(actual) or not _WHOLE_FIELDS.keys() >= set(match_on):
        return False
    causes = _plain_causes(e.metadata for e in expected)
    if causes is None or causes != _plain_causes(f[3] for f in actual):
        return False
    recorded = list(map(attrgetter(*match_on), expected))
    return same_value(recorded, list(map(itemgetter(*map(_WHOLE_FIELDS.get, match_on)), actual)))


def _plain_causes(metadata: Iterable[Mapping[str, object] | None]) -> list[object] | None:
    """Each ``caused_by`` as it is, when each is an int or absent: two such lists are equal
    exactly when the events' :func:`~..causality.cause_of` are (no call per event, a
    quarter of the time); ``None`` otherwise."""
    raw = [m.get(CAUSED_BY) if m else None for m in metadata]
    return raw if _PLAIN_CAUSES.issuperset(map(type, raw)) else None


_PLAIN_CAUSES = frozenset((int, type(None)))


def compare_outputs(
    cassette: Cassette,
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    *,
    replayed: bool,
    **options: Any,
) -> Comparison:
    """Input by input when the cassette records causes and ``play()`` replayed the inputs
    (a test that publishes them itself knows no causes); else as one sequence."""
    if not (replayed and has_causes(expected)):
        return match_events(expected, actual, **options)
    return match_by_cause(cassette.events, expected, actual, **options)
