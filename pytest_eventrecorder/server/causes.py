"""Cause and effect in a recording: each output event recorded while an input was handled
carries ``metadata.caused_by``, the input's index in the event list.

The links are read in one pass over the file and kept in the store's memory-bounded results
cache until the file changes. A ``caused_by`` that is not the index of an earlier event (a
number past the end, the event itself, a later one, not a whole number) links nothing; the
answer counts them. The blueprint is nested in the ``api`` one, so the ``/api`` rules apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..cassette import RecordedEvent
from .errors import StoreError
from .schemas import stream_events
from .store import EventIndex, RecordingStore

causes = Blueprint("causes", __name__, url_prefix="/recording")

CAUSE_KEY = "caused_by"
MAX_EFFECTS = 1000
"""Outputs listed per input (``effects_total`` counts them all)."""
LINK_BYTES = 150
"""Memory one link takes in the cache, about (two dict entries and a list slot)."""


@dataclass
class Links:
    """Which event caused which: output index -> input index, and input -> its outputs."""

    cause_of: dict[int, int] = field(default_factory=dict)
    effects_of: dict[int, list[int]] = field(default_factory=dict)
    ignored: int = 0

    @classmethod
    def read(cls, events: Iterable[RecordedEvent]) -> Links:
        links = cls()
        for index, event in enumerate(events):
            metadata = event.metadata
            if metadata and CAUSE_KEY in metadata:
                links.add(index, metadata[CAUSE_KEY])
        return links

    def add(self, index: int, cause: object) -> None:
        if isinstance(cause, bool) or not isinstance(cause, int) or not 0 <= cause < index:
            self.ignored += 1  # an input is always recorded before what it caused
            return
        self.cause_of[index] = cause
        self.effects_of.setdefault(cause, []).append(index)

    @property
    def nbytes(self) -> int:
        return 200 + LINK_BYTES * len(self.cause_of)


class BadIndex(StoreError):
    pass


def _store() -> RecordingStore:
    store: RecordingStore = current_app.extensions["eventrecorder"].store
    return store


@causes.get("/<path:filename>/causes")
def recording_causes(filename: str) -> Response:
    index = _store().open(filename)
    position = _index_arg(index.count)
    links = read_links(index)
    effects = links.effects_of.get(position, [])
    cause = links.cause_of.get(position)
    return jsonify(
        linked=bool(links.cause_of),
        index=position,
        caused_by=None if cause is None else _brief(index, cause),
        effects=[_brief(index, i) for i in effects[:MAX_EFFECTS]],
        effects_total=len(effects),
        ignored_links=links.ignored,
    )


def read_links(index: EventIndex) -> Links:
    """The recording's links, read once per version of the file."""
    results = _store().results
    key = ("causes", index.filename, index.key)
    links = results.get(key)
    if not isinstance(links, Links):
        links = Links.read(stream_events(index))
        results.put(key, links, links.nbytes)
    return links


def _index_arg(count: int) -> int:
    raw = request.args.get("index", "")
    if not raw:
        raise BadIndex("query parameter 'index' (an event's position) is required")
    try:
        value = int(raw)
    except ValueError:
        raise BadIndex(f"query parameter 'index' must be a whole number, got {raw!r}") from None
    if not 0 <= value < count:
        within = f"from 0 to {count - 1}" if count else "an event's, but the recording has none"
        raise BadIndex(f"query parameter 'index' must be {within}, got {value}")
    return value


def _brief(index: EventIndex, position: int) -> dict[str, Any]:
    cols = index.columns
    return {
        "index": position,
        "event_name": cols.names[cols.name_ids[position]],
        "timestamp_offset_ms": cols.offsets[position],
    }
