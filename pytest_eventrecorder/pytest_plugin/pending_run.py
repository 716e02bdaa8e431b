"""A failed replay's pending cassette: what this run produced, kept beside the recorded one
(``x.pending.json``, see :mod:`pytest_eventrecorder.pending`) until it is reviewed.

The pending cassette is the recorded one with this run's outputs in place of the recorded
outputs: the same inputs at the same offsets, each output that still matches a recorded one at
that one's offset, and a new output just after the event it followed. Replaying it gives this
run's behaviour back, so accepting it makes the test pass as it ran.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from ..cassette import Cassette, RecordedEvent
from ..formats import write_cassette
from ..pending import pending_path
from .lifecycle import LIFECYCLE, RUN_LOG
from .opening import shown_path
from .options import InputSelector

if TYPE_CHECKING:
    from .session import EventCassette

_GAP_MS = 0.001
"""Spacing given to a new output so it sorts after the event it followed."""


def produced_cassette(
    cassette: Cassette,
    captured: list[RecordedEvent],
    pairs: dict[int, int],
    is_input: InputSelector,
) -> Cassette:
    """``cassette`` with its outputs replaced by this run's (``pairs``: this run's output
    index -> the recorded output it matched)."""
    outputs = [e for e in cassette.events if not is_input(e)]
    inputs = [e for e in cassette.events if is_input(e)]
    input_at = iter(e.timestamp_offset_ms for e in inputs)
    at, new = 0.0, list[RecordedEvent]()
    for event in captured:
        if is_input(event):
            at = next(input_at, at)
            continue
        if len(new) in pairs:
            at = outputs[pairs[len(new)]].timestamp_offset_ms
        else:
            at += _GAP_MS
        new.append(replace(event, timestamp_offset_ms=round(at, 6)))
    events = sorted([*inputs, *new], key=lambda e: e.timestamp_offset_ms)
    return cassette.with_events(events)


def keep_pending(item: pytest.Item, cassette: EventCassette, report: str) -> str:
    """Write the failed replay's pending cassette (unless ``--event-cassettes-pending=no``)
    and end ``report`` with the two ways forward: review it, or re-record."""
    config = item.config
    if cassette.crashed or cassette.errors or not cassette.verifies:
        return report  # not a change in behaviour: nothing to accept
    if not config.stash[LIFECYCLE].pending:
        return report
    pending = pending_path(cassette.path)
    write_cassette(pending, cassette.produced())
    config.stash[RUN_LOG].pending.add(str(pending))
    shown = shown_path(config, pending)
    return f"{report}\nor review this run's events and accept them: eventrecorder review {shown}"
