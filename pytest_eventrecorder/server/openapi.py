"""The OpenAPI 3 description of ``/api`` (served at ``/api/openapi.json``).

A test keeps it identical to the app's routes: every path and method here exists, and
every API route is described.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

ANY: Schema = {"description": "Any JSON value (the event's payload, as recorded)."}
TEXT: Schema = {"type": "string"}
NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 200}
MS: Schema = {"type": "number", "minimum": 0}
COUNT: Schema = {"type": "integer", "minimum": 0}
NULLABLE_TEXT: Schema = {"type": "string", "nullable": True}
SPEED: Schema = {"type": "number", "minimum": 0.01, "maximum": 1000}

FILENAME_PARAM: Schema = {
    "name": "filename",
    "in": "path",
    "required": True,
    "description": "A cassette's path relative to the recordings folder, such as "
    "test_bot/test_orders.json (up to 4 folders; no part starts with '.'); "
    "it ends in .json, .jsonl, .yaml or .yml, optionally + .gz.",
    "schema": TEXT,
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    param: Schema = {"name": name, "in": "query", "schema": schema, "description": description}
    if required:
        param["required"] = True
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: Schema,
    *,
    params: list[Schema] | None = None,
    body: Schema | None = None,
    status: str = "200",
    ok_description: str = "Success.",
) -> Schema:
    operation: Schema = {
        "summary": summary,
        "responses": {
            status: _json(ok, ok_description),
            "4XX": _json(_ref("Error"), "The request was refused; 'error' says why."),
        },
    }
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


EVENT_FILTERS = [
    _query("event_name", {"type": "array", "items": TEXT}, "Only these event names (repeat)."),
    _query(
        "source",
        {"type": "array", "items": TEXT},
        "Only these sources (repeat; an empty value means events without a source).",
    ),
    _query("q", TEXT, "Free text, case-insensitive, in the name, source or data."),
    _query(
        "field",
        TEXT,
        "A dotted path inside event_data ('order.id', 'items.*.sku'); alone, events that have it.",
    ),
    _query(
        "value", TEXT, "With 'field': the value it must hold (compared as text, case-insensitive)."
    ),
    _query("from_ms", MS, "Only events at or after this offset."),
    _query("to_ms", MS, "Only events at or before this offset."),
    _query(
        "limit", {"type": "integer", "minimum": 0, "maximum": 1000, "default": 100}, "Page size."
    ),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Events to skip."),
]

SCHEMAS: dict[str, Schema] = {
    "Error": _obj({"error": TEXT}, ("error",)),
    "Event": _obj(
        {
            "index": COUNT,
            "timestamp_offset_ms": MS,
            "event_name": TEXT,
            "event_data": ANY,
            "source": NULLABLE_TEXT,
            "event_type": TEXT,
            "metadata": {"type": "object"},
        },
        ("index", "timestamp_offset_ms", "event_name", "event_data", "source"),
    ),
    "RecordingEntry": _obj(
        {
            "filename": TEXT,
            "session_name": NULLABLE_TEXT,
            "start_time": NULLABLE_TEXT,
            "total_events": {**COUNT, "nullable": True},
            "duration_ms": {**MS, "nullable": True},
            "size_bytes": COUNT,
            "modified": TEXT,
            "error": {"type": "string", "description": "Set when the file cannot be read."},
            "pending": {
                "type": "boolean",
                "description": "A pending cassette (x.pending.json): what a failing test "
                "produced, to accept or reject on the Review page; never replayed.",
            },
        },
        ("filename", "size_bytes", "modified"),
    ),
    "Counts": {"type": "object", "additionalProperties": COUNT},
    "EventBrief": _obj(
        {"index": COUNT, "event_name": TEXT, "timestamp_offset_ms": MS},
        ("index", "event_name", "timestamp_offset_ms"),
    ),
    "SchemaField": _obj(
        {
            "path": TEXT,
            "types": {"type": "array", "items": TEXT},
            "required": {"type": "boolean"},
            "format": NULLABLE_TEXT,
            "enum": {"type": "array", "nullable": True, "items": {}},
            "minimum": {"type": "number", "nullable": True},
            "maximum": {"type": "number", "nullable": True},
        }
    ),
    "ReplayStatus": _obj(
        {
            "status": {
                "type": "string",
                "enum": ["idle", "playing", "paused", "stopped", "finished"],
            },
            "filename": NULLABLE_TEXT,
            "speed": {"type": "number"},
            "position": COUNT,
            "total": COUNT,
            "current_offset_ms": MS,
            "current_event": {"type": "object", "nullable": True},
            "simulation": {"type": "boolean"},
            "error": NULLABLE_TEXT,
        },
        (
            "status",
            "filename",
            "speed",
            "position",
            "total",
            "current_offset_ms",
            "current_event",
            "simulation",
        ),
    ),
    "Summary": _obj(
        {
            "filename": TEXT,
            "session_name": TEXT,
            "start_time": TEXT,
            "total_events": COUNT,
            "duration_ms": MS,
            "event_summary": _ref("Counts"),
        }
    ),
}

RECORDING = _obj(
    {
        "filename": TEXT,
        "session_name": TEXT,
        "start_time": TEXT,
        "duration_ms": MS,
        "total_events": COUNT,
        "size_bytes": COUNT,
        "version": COUNT,
        "metadata": {"type": "object"},
        "event_summary": _ref("Counts"),
        "source_summary": _ref("Counts"),
    },
    ("filename", "session_name", "total_events", "event_summary", "source_summary"),
)

TIMELINE = _obj(
    {
        "duration_ms": MS,
        "from_ms": MS,
        "to_ms": MS,
        "buckets": COUNT,
        "by": TEXT,
        "lanes": {
            "type": "array",
            "items": _obj(
                {
                    "name": TEXT,
                    "count": COUNT,
                    "offsets_ms": {"type": "array", "items": MS},
                    "histogram": {"type": "array", "items": COUNT},
                }
            ),
        },
    },
    ("duration_ms", "lanes"),
)

CREATE_BODY = _obj(
    {
        "source_filename": TEXT,
        "event_indices": {
            "type": "array",
            "items": COUNT,
            "minItems": 1,
            "description": "Positions of the events to keep.",
        },
        "new_session_name": NAME,
        "from_ms": {**MS, "description": "Instead of event_indices: start of a time range."},
        "to_ms": {**MS, "description": "Instead of event_indices: end of a time range."},
    },
    ("source_filename", "new_session_name"),
)

PATHS: dict[str, dict[str, Schema]] = {
    "/api/recordings": {
        "get": _op(
            "List the recordings (a broken file is listed with 'error').",
            _obj(
                {
                    "recordings": {"type": "array", "items": _ref("RecordingEntry")},
                    "count": COUNT,
                    "recordings_dir": TEXT,
                }
            ),
            params=[
                _query("q", TEXT, "Case-insensitive text in the file or session name."),
                _query(
                    "sort",
                    {"type": "string", "enum": ["date", "name", "events", "duration", "size"]},
                    "Sort key.",
                ),
                _query(
                    "order",
                    {"type": "string", "enum": ["asc", "desc"]},
                    "Sort order (default: asc for name, desc otherwise).",
                ),
            ],
        )
    },
    "/api/recording/{filename}": {
        "get": _op(
            "A recording's header and its counts per event name and source.",
            RECORDING,
            params=[FILENAME_PARAM],
        )
    },
    "/api/recording/{filename}/events": {
        "get": _op(
            "A page of a recording's events, filtered.",
            _obj(
                {
                    "events": {"type": "array", "items": _ref("Event")},
                    "total": COUNT,
                    "offset": COUNT,
                    "limit": COUNT,
                }
            ),
            params=[FILENAME_PARAM, *EVENT_FILTERS],
        )
    },
    "/api/recording/{filename}/fields": {
        "get": _op(
            "What a recording's events can be filtered on.",
            _obj(
                {
                    "event_names": {"type": "array", "items": TEXT},
                    "sources": {"type": "array", "items": TEXT},
                    "fields": {"type": "array", "items": TEXT},
                }
            ),
            params=[FILENAME_PARAM],
        )
    },
    "/api/recording/{filename}/timeline": {
        "get": _op(
            "Events over time, one lane per source or event name.",
            TIMELINE,
            params=[
                FILENAME_PARAM,
                _query(
                    "buckets",
                    {"type": "integer", "minimum": 1, "maximum": 2000, "default": 200},
                    "Histogram buckets.",
                ),
                _query("by", {"type": "string", "enum": ["source", "event_name"]}, "Lane key."),
                _query("from_ms", MS, "Zoom: start of the range."),
                _query("to_ms", MS, "Zoom: end of the range."),
            ],
        )
    },
    "/api/recording/{filename}/schema": {
        "get": _op(
            "A recording's inferred schema: each event name's fields (path, JSON types, whether "
            "every object there had it, format, the values of a small closed set, the range).",
            _obj(
                {
                    "filename": TEXT,
                    "event_names": {
                        "type": "array",
                        "items": _obj(
                            {
                                "name": TEXT,
                                "count": COUNT,
                                "sources": {"type": "array", "items": TEXT},
                                "fields": {"type": "array", "items": _ref("SchemaField")},
                                "fields_truncated": {"type": "boolean"},
                            }
                        ),
                    },
                }
            ),
            params=[FILENAME_PARAM],
        )
    },
    "/api/recording/{filename}/asyncapi": {
        "get": _op(
            "A recording's inferred AsyncAPI 3.0 document (as 'eventrecorder schema' writes it), "
            "sent as a download.",
            {"type": "object"},
            params=[FILENAME_PARAM],
        )
    },
    "/api/recording/{filename}/causes": {
        "get": _op(
            "Cause and effect around one event: the events whose metadata.caused_by is its "
            "index (its outputs), and the event its own caused_by names (its cause). 'linked' "
            "is false for a recording without any caused_by.",
            _obj(
                {
                    "linked": {"type": "boolean"},
                    "index": COUNT,
                    "caused_by": {"allOf": [_ref("EventBrief")], "nullable": True},
                    "effects": {"type": "array", "items": _ref("EventBrief")},
                    "effects_total": COUNT,
                    "ignored_links": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "caused_by values that name no earlier event.",
                    },
                }
            ),
            params=[
                FILENAME_PARAM,
                _query("index", COUNT, "The event's position in the recording.", required=True),
            ],
        )
    },
    "/api/recording/create": {
        "post": _op(
            "Save chosen events (by position, or a time range rebased to 0) as a new recording; "
            "its file name is made from new_session_name and never replaces an existing file.",
            _obj({"filename": TEXT, "session_name": TEXT, "total_events": COUNT}),
            body=CREATE_BODY,
            status="201",
            ok_description="Created.",
        )
    },
    "/api/record/start": {
        "post": _op(
            "Start a recording session fed by /api/record/event.",
            _obj({"status": TEXT, "session_name": TEXT}),
            body=_obj({"session_name": NAME, "metadata": {"type": "object"}}, ("session_name",)),
        )
    },
    "/api/record/event": {
        "post": _op(
            "Record one event in the running session.",
            _obj({"status": TEXT, "index": COUNT}),
            body=_obj(
                {
                    "event_name": NAME,
                    "event_data": ANY,
                    "source": {**NAME, "nullable": True},
                    "metadata": {"type": "object"},
                },
                ("event_name", "event_data"),
            ),
        )
    },
    "/api/record/stop": {
        "post": _op(
            "Stop the session and save it as a new .json recording.",
            _obj({"status": TEXT, "filename": TEXT, "total_events": COUNT}),
        )
    },
    "/api/record/status": {
        "get": _op(
            "The recording session's state.",
            _obj(
                {
                    "recording": {"type": "boolean"},
                    "session_name": NULLABLE_TEXT,
                    "total_events": COUNT,
                    "elapsed_ms": MS,
                }
            ),
        )
    },
    "/api/replay/start/{filename}": {
        "post": _op(
            "Replay a recording (simulation: events go to no bus); replaces a running replay.",
            _ref("ReplayStatus"),
            params=[FILENAME_PARAM],
            body=_obj({"speed": SPEED}),
        )
    },
    "/api/replay/pause": {
        "post": _op("Pause a playing replay, or resume a paused one.", _ref("ReplayStatus"))
    },
    "/api/replay/stop": {"post": _op("Stop the replay.", _ref("ReplayStatus"))},
    "/api/replay/speed": {
        "post": _op(
            "Change the replay speed, also while it plays.",
            _ref("ReplayStatus"),
            body=_obj({"speed": SPEED}, ("speed",)),
        )
    },
    "/api/replay/status": {
        "get": _op("The replay's state and current event.", _ref("ReplayStatus"))
    },
    "/api/replay/stream": {
        "get": {
            "summary": "Server-sent events: 'data: <replay status JSON>' on every change, ending "
            "after a terminal status (idle, stopped, finished). With a token, ?token= also works "
            "here, since EventSource cannot send headers.",
            "parameters": [_query("token", TEXT, "The API token (this endpoint only).")],
            "responses": {
                "200": {
                    "description": "An event stream.",
                    "content": {"text/event-stream": {"schema": TEXT}},
                },
                "4XX": _json(_ref("Error"), "The request was refused; 'error' says why."),
            },
        }
    },
    "/api/diff": {
        "get": _op(
            "Compare two recordings (a: expected, b: actual) with the diff engine.",
            _obj(
                {
                    "equal": {"type": "boolean"},
                    "differences": {"type": "array", "items": {"type": "object"}},
                    "total_differences": COUNT,
                    "counts": {
                        "type": "object",
                        "description": "Differences per kind (changed, moved, missing, "
                        "unexpected), over all of them, not only those listed.",
                        "additionalProperties": COUNT,
                    },
                    "truncated": {"type": "boolean"},
                    "warnings": {
                        "type": "array",
                        "items": TEXT,
                        "description": "One line per ignore_field that names no field.",
                    },
                    "a": _ref("Summary"),
                    "b": _ref("Summary"),
                }
            ),
            params=[
                _query("a", TEXT, "The expected recording's file name.", required=True),
                _query("b", TEXT, "The actual recording's file name.", required=True),
                _query(
                    "ignore_field",
                    {"type": "array", "items": TEXT},
                    "Field paths to leave out, as the report prints them "
                    "('event_data.meta.*'; repeat).",
                ),
            ],
        )
    },
    "/api/review": {
        "get": _op(
            "The pending cassettes, each with the recorded cassette it would replace.",
            _obj(
                {
                    "pending": {
                        "type": "array",
                        "items": {
                            "allOf": [
                                _ref("RecordingEntry"),
                                _obj({"recorded": TEXT, "recorded_exists": {"type": "boolean"}}),
                            ]
                        },
                    },
                    "count": COUNT,
                }
            ),
        )
    },
    "/api/review/accept/{filename}": {
        "post": _op(
            "Accept a pending cassette: it replaces the recorded one (one atomic rename). "
            "400 for anything that is not a pending cassette in the folder, 404 when it is gone.",
            _obj({"accepted": TEXT, "recorded": TEXT}),
            params=[FILENAME_PARAM],
        )
    },
    "/api/review/reject/{filename}": {
        "post": _op(
            "Reject a pending cassette: it is deleted; the recorded one stays as it is.",
            _obj({"rejected": TEXT}),
            params=[FILENAME_PARAM],
        )
    },
    "/api/openapi.json": {"get": _op("This document.", {"type": "object"})},
}


def openapi_document(*, token_required: bool) -> dict[str, Any]:
    """The API description; with a token, every operation requires bearer authentication."""
    from .. import __version__

    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "pytest-eventrecorder dashboard API",
            "version": __version__,
            "description": "Browse, filter, record, replay (simulation) and compare event "
            "recordings. Errors are JSON objects with an 'error' message.",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
    if token_required:
        doc["security"] = [{"bearerAuth": []}]
    return doc
