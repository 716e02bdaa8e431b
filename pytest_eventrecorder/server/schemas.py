"""A recording's inferred schema (:mod:`..schema`): its fields per event name, as rows for the
recording page, and the AsyncAPI document to download.

The file is read once per version of it: the document is kept in the store's memory-bounded
results cache, keyed by the file's (mtime, size, inode) like every per-file answer. The
blueprint is nested in the ``api`` one, so the ``/api`` rules apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ..cassette import Cassette, CassetteError, RecordedEvent
from ..fieldpaths import join_path
from ..formats import iter_events
from ..schema import COUNT_KEY, RANGE_KEY, SOURCES_KEY, asyncapi_document, infer
from .cache import size_of
from .errors import public_error
from .store import EventIndex, RecordingStore

schemas = Blueprint("schemas", __name__, url_prefix="/recording")

MAX_FIELDS = 1000
"""Field rows listed per event name; the AsyncAPI document always has them all."""
ROOT = "event_data"


def _store() -> RecordingStore:
    store: RecordingStore = current_app.extensions["eventrecorder"].store
    return store


@schemas.get("/<path:filename>/schema")
def recording_schema(filename: str) -> Response:
    index = _store().open(filename)
    doc = asyncapi(index)
    messages = doc["components"]["messages"]
    names = []
    for key, channel in doc["channels"].items():
        rows = list(field_rows(messages[key]["payload"]))
        names.append(
            {
                "name": channel["address"],
                "count": channel[COUNT_KEY],
                "sources": channel[SOURCES_KEY],
                "fields": rows[:MAX_FIELDS],
                "fields_truncated": len(rows) > MAX_FIELDS,
            }
        )
    return jsonify(filename=index.filename, event_names=names)


@schemas.get("/<path:filename>/asyncapi")
def recording_asyncapi(filename: str) -> Response:
    index = _store().open(filename)
    response = jsonify(asyncapi(index))
    stem = index.path.name.split(".", 1)[0] or "recording"
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.asyncapi.json"'
    return response


def asyncapi(index: EventIndex) -> dict[str, Any]:
    """The recording's AsyncAPI document, inferred once per version of the file."""
    results = _store().results
    key = ("asyncapi", index.filename, index.key)
    doc = results.get(key)
    if doc is None:
        doc = asyncapi_document(infer(stream_events(index)), index.header.session_name)
        results.put(key, doc, size_of(doc))
    assert isinstance(doc, dict)
    return doc


def stream_events(index: EventIndex) -> Iterator[RecordedEvent]:
    """Every event once, a ``.jsonl`` file streamed block by block rather than held."""
    source = index.replay_source()
    if isinstance(source, Cassette):
        yield from source.events
        return
    try:
        yield from iter_events(source)
    except CassetteError as exc:
        raise public_error(exc, index.filename) from None


def field_rows(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per place in the payload schema, parents first (``event_data``, ``order``,
    ``order.id``, ``lines.*``, ...); ``required``: every object there had the key."""
    pending: list[tuple[str, dict[str, Any], bool]] = [(ROOT, payload, True)]
    while pending:  # iteratively: data may nest deeper than Python recurses
        path, schema, required = pending.pop()
        yield _row(path, schema, required)
        below = []
        prefix = "" if path == ROOT else path
        wanted = set(schema.get("required", ()))
        for name, child in schema.get("properties", {}).items():
            below.append((_join(prefix, name), child, name in wanted))
        for key in ("additionalProperties", "items"):
            if key in schema:  # a list's items, or the keys of a map: any key, so no name
                below.append((f"{prefix}.*" if prefix else "*", schema[key], key == "items"))
        pending.extend(reversed(below))


def _join(prefix: str, key: str) -> str:
    """``prefix.key`` as /fields lists paths: the key quoted when it must be."""
    return join_path(prefix, key) if prefix else join_path("", key)[1:]


def _row(path: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    types = schema.get("type", [])
    seen = schema.get(RANGE_KEY) or {}
    return {
        "path": path,
        "types": [types] if isinstance(types, str) else list(types),
        "required": required,
        "format": schema.get("format"),
        "enum": schema.get("enum"),
        "minimum": seen.get("minimum"),
        "maximum": seen.get("maximum"),
    }
