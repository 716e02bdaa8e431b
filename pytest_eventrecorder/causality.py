"""Cause and effect: which input was being handled when each output was published.

Whoever publishes an input says so in a :class:`~contextvars.ContextVar`: the replayer around
each event it publishes, the pytest plugin's recorder when an input is published live. The
recorder reads it when it records any other event and stores the input's index in the
cassette's event list as ``metadata.caused_by``. A subscriber called synchronously sees it,
and so does every asyncio task a handler starts (a task copies the context it was created
in). A thread does not: outputs published from another thread have no cause (a documented
limit).

Verification then compares outputs input by input (:func:`match_by_cause`), so one dropped
output shifts nothing else, and says what an input used to cause and causes now.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextvars import ContextVar, Token
from dataclasses import replace
from typing import Any, NamedTuple

from .cassette import RecordedEvent
from .compare import Comparison, Difference, match_events, match_in_step

CAUSED_BY = "caused_by"
"""The metadata key holding the index of the input that caused an output."""


class Handling(NamedTuple):
    """The input being handled: the event, who set it (``owner``), and when it was
    published (``time.perf_counter_ns()``, a monotonic clock). A tuple: the replayer makes
    one per event it publishes."""

    event: RecordedEvent
    owner: object
    at_ns: int
    position: int | None = None
    """Its index in the owner's event list, when the owner knows it (recording live)."""


Marked = tuple[RecordedEvent, object, int, int | None]
"""A :class:`Handling`'s fields as a plain tuple: what the context variable holds, since
the replayer sets it per event and a plain tuple is built four times faster."""

_handling: ContextVar[Marked | None] = ContextVar("eventrecorder_handling", default=None)
set_marked = _handling.set
"""Mark an input as handled from now on, given ``(event, owner, at_ns, position)``: the
replayer's per-event form, inlined in its loop (no call to :func:`mark`)."""
marked_now = _handling.get
"""The mark as :data:`set_marked` takes it (``None`` when nothing is handled)."""


def handling_now() -> Handling | None:
    """The input being handled in this thread or task, if any."""
    now = _handling.get()
    return None if now is None else Handling._make(now)


_now_ns = time.perf_counter_ns


def mark(event: RecordedEvent, owner: object) -> Token[Marked | None]:
    """Mark ``event`` as the input being handled from now on in this context; undo with
    :func:`unmark`. No context manager object, no keyword tuple (0.4 us per event against
    0.75 us for ``with handling(...)``)."""
    return _handling.set((event, owner, _now_ns(), None))


unmark = _handling.reset
"""Undo a :func:`mark` (given its token)."""


class handling:  # lower case: used like a function, ``with handling(event, owner):``
    """Mark ``event`` as the input being handled while the block publishes it."""

    __slots__ = ("_event", "_owner", "_token")

    def __init__(self, event: RecordedEvent, owner: object) -> None:
        self._event, self._owner = event, owner

    def __enter__(self) -> None:
        self._token = mark(self._event, self._owner)

    def __exit__(self, *_exc: object) -> None:
        unmark(self._token)


def begin_handling(event: RecordedEvent, owner: object, index: int) -> None:
    """Mark ``event`` as handled from now on in this context (a live input: its publish call
    is not ours to wrap, so the mark lasts until the next input, or the owner stops)."""
    _handling.set((event, owner, time.perf_counter_ns(), index))


def end_handling(owner: object) -> None:
    """Forget the mark :func:`begin_handling` left in this context for ``owner``."""
    now = handling_now()
    if now is not None and now.owner is owner:
        _handling.set(None)


def with_cause(event: RecordedEvent, index: int) -> RecordedEvent:
    """``event`` with ``metadata.caused_by`` set (its other metadata kept)."""
    return replace(event, metadata={**(event.metadata or {}), CAUSED_BY: index})


def cause_of(event: RecordedEvent) -> int | None:
    """The index of the input that caused ``event``, if recorded."""
    value = event.metadata.get(CAUSED_BY) if event.metadata else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def has_causes(events: Sequence[RecordedEvent]) -> bool:
    """Whether any event records its cause (cassettes recorded before causes have none)."""
    return any(cause_of(e) is not None for e in events)


# --------------------------------------------------------------------------- comparing


def match_by_cause(
    recorded: Sequence[RecordedEvent],
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    **options: Any,
) -> Comparison:
    """:func:`~.compare.match_events` run per cause: the outputs each input caused, then
    those with no cause. ``recorded`` is the cassette's whole event list (for the names in
    the lines). Indices in the result are positions in
    ``expected`` and ``actual``, as :func:`match_events` gives them; each difference under an
    input gains a line saying what that input used to cause and causes now."""
    if list(map(cause_of, expected)) == list(map(cause_of, actual)):
        # Each input's outputs then sit at the same positions on both sides: if every pair
        # is equal, each input's comparison pairs i -> i and finds nothing. One pass, then.
        whole = match_in_step(expected, actual, **options)
        if whole is not None:
            return replace(
                whole,
                unmatched_paths=tuple(sorted(set(whole.unmatched_paths))),
                unmatched_match_on=tuple(sorted(set(whole.unmatched_match_on))),
            )
    groups: dict[int | None, tuple[list[int], list[int]]] = {}
    for side, events in enumerate((expected, actual)):
        for i, event in enumerate(events):
            groups.setdefault(cause_of(event), ([], []))[side].append(i)
    diffs: list[Difference] = []
    pairs: dict[int, int] = {}
    unmatched: set[str] | None = None  # unmatched only if no group's events have it
    unmatched_on: set[str] | None = None
    for cause, (exp_at, act_at) in sorted(groups.items(), key=lambda kv: _order(kv[0])):
        part = match_events([expected[i] for i in exp_at], [actual[i] for i in act_at], **options)
        pairs.update((act_at[a], exp_at[e]) for a, e in part.pairs.items())
        unmatched = set(part.unmatched_paths) & (
            unmatched if unmatched is not None else set(part.unmatched_paths)
        )
        unmatched_on = set(part.unmatched_match_on) & (
            unmatched_on if unmatched_on is not None else set(part.unmatched_match_on)
        )
        found = [_global(d, exp_at, act_at) for d in part.differences]
        diffs += _explained(found, cause, recorded, expected, exp_at, act_at, actual)
    return Comparison(
        diffs, pairs, tuple(sorted(unmatched or ())), tuple(sorted(unmatched_on or ()))
    )


def _order(cause: int | None) -> tuple[int, int]:
    return (1, 0) if cause is None else (0, cause)


def _global(diff: Difference, exp_at: list[int], act_at: list[int]) -> Difference:
    e, a = diff.expected_index, diff.actual_index
    return replace(
        diff,
        expected_index=None if e is None else exp_at[e],
        actual_index=None if a is None else act_at[a],
    )


def _explained(
    diffs: list[Difference],
    cause: int | None,
    recorded: Sequence[RecordedEvent],
    expected: Sequence[RecordedEvent],
    exp_at: list[int],
    act_at: list[int],
    actual: Sequence[RecordedEvent],
) -> list[Difference]:
    """Each missing or unexpected output under an input, with the cause line."""
    if cause is None or not 0 <= cause < len(recorded):
        return diffs
    now = [actual[i].event_name for i in act_at]
    missing = {d.expected_index for d in diffs if d.kind == "missing"}
    still = [expected[i].event_name for i in exp_at if i not in missing]
    new_names = sorted({d.event_name for d in diffs if d.kind == "unexpected"})
    head = f"input #{cause} {recorded[cause].event_name!r}"
    out = []
    for diff in diffs:
        line = None
        if diff.kind == "missing" and diff.expected is not None:
            at = _position(recorded, diff.expected)
            line = f"{head} used to cause {diff.event_name!r} (recorded #{at}); " + (
                "it now causes nothing"
                if not now
                else f"it now causes {_names(new_names)} instead"
                if new_names
                else f"it now causes only {_names(sorted(set(still)))}"
            )
        elif diff.kind == "unexpected":
            line = f"caused by {head}, which never caused it when recorded"
        out.append(diff if line is None else replace(diff, field_diffs=(*diff.field_diffs, line)))
    return out


def _position(recorded: Sequence[RecordedEvent], event: RecordedEvent) -> int | str:
    return next((i for i, e in enumerate(recorded) if e is event), "?")


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) or "nothing"


def reindexed(before: Sequence[RecordedEvent], after: list[RecordedEvent]) -> list[RecordedEvent]:
    """``after`` (``before`` with events added) with every ``caused_by`` pointing at the same
    input as it did in ``before``: added events shift the indices of those after them."""
    now = {id(e): i for i, e in enumerate(after)}
    moved = {i: now[id(e)] for i, e in enumerate(before) if id(e) in now and now[id(e)] != i}
    if not moved:
        return after
    return [
        with_cause(e, moved[c]) if (c := cause_of(e)) is not None and c in moved else e
        for e in after
    ]
