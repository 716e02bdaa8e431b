"""The dashboard's REST API: the seed's endpoints, plus diff, a replay stream and OpenAPI.

Every answer is JSON; every problem with a request is a 4xx ``{"error": "..."}`` naming it.
With a token configured, each call needs ``Authorization: Bearer <token>``. Without one, the
API only answers requests addressed to a loopback name (no DNS rebinding), and POSTs sent
from another origin are refused (no cross-site requests from a page the user visits).
"""

from __future__ import annotations

import errno
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.sansio.response import Response as BaseResponse

from ..cassette import Cassette, JSONValue, RecordedEvent, shift_iso
from ..compare import DiffStream, first_differences, unmatched_note
from ..config import EventRecorderConfig
from ..recorder import EventRecorder
from .cache import size_of
from .causes import causes
from .jsonout import compact_ascii
from .openapi import openapi_document
from .replay import MAX_SPEED, MIN_SPEED, TERMINAL, ReplayManager, check_speed
from .review import refuse_replay, review
from .schemas import schemas, stream_events
from .store import EventIndex, EventQuery, RecordingStore, StoreError, check_name, suffix_of

log = logging.getLogger("pytest_eventrecorder")

api = Blueprint("api", __name__, url_prefix="/api")
api.register_blueprint(review)  # /api/review/...: the same token, host and origin rules
api.register_blueprint(schemas)  # /api/recording/<file>/schema and /asyncapi
api.register_blueprint(causes)  # /api/recording/<file>/causes

MAX_BODY_BYTES = 1024 * 1024
MAX_PAGE = 1000
MAX_BUCKETS = 2000
MAX_NAME = 200
MAX_DIFFERENCES = 1000
STREAM_INTERVAL_S = 0.1
KEEPALIVE_S = 15.0
SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "date": lambda r: r["start_time"] or r["modified"],
    "name": lambda r: r["filename"].casefold(),
    "events": lambda r: r["total_events"] if r["total_events"] is not None else -1,
    "duration": lambda r: r["duration_ms"] if r["duration_ms"] is not None else -1,
    "size": lambda r: r["size_bytes"],
}


class ApiError(Exception):
    """A request the API refuses, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> NoReturn:
    raise ApiError(400, message)


# --------------------------------------------------------------------------- state


LIVE_LIMIT_BYTES = 256 * 1024 * 1024
"""A live recording is held in memory until stopped: past this many bytes of memory held by
its events, more are refused (409) until it is stopped and saved."""
EVENT_OVERHEAD = 400
"""Bytes a recorded event takes besides its name, data, source and metadata."""


def kept_size(
    name: str, data: JSONValue, source: str | None, metadata: dict[str, JSONValue] | None
) -> int:
    """The memory one posted event takes once recorded: 120 KB of ``[[],[],...]`` is 30,000
    lists, about 2 MB, so the bytes posted say little."""
    return EVENT_OVERHEAD + size_of(name) + size_of(data) + size_of(source) + size_of(metadata)


class LiveRecording:
    """The recording session driven by ``/api/record/*`` (one at a time)."""

    def __init__(self, store: RecordingStore, limit_bytes: int = LIVE_LIMIT_BYTES) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._recorder: EventRecorder | None = None
        self._started = 0.0
        self._limit = limit_bytes
        self._bytes = 0

    def start(self, session_name: str, metadata: dict[str, JSONValue] | None) -> dict[str, Any]:
        with self._lock:
            if self._recorder is not None:
                raise ApiError(
                    409, f"already recording {self._recorder.session_name!r}; stop it first"
                )
            recorder = EventRecorder(session_name, self._store.root, metadata=metadata)
            recorder.start_recording()
            self._recorder, self._started, self._bytes = recorder, time.monotonic(), 0
        return {"status": "recording", "session_name": session_name}

    def record(
        self,
        name: str,
        data: JSONValue,
        source: str | None,
        metadata: dict[str, JSONValue] | None,
    ) -> dict[str, Any]:
        """Keep one posted event, if the memory it takes fits the limit."""
        size = kept_size(name, data, source, metadata)
        with self._lock:
            recorder = self._active()
            if self._bytes + size > self._limit:
                raise ApiError(
                    409,
                    f"the live recording {recorder.session_name!r} holds "
                    f"{recorder.event_count} events in {self._bytes:,} bytes of memory; this "
                    f"one takes {size:,} and the limit is {self._limit:,}. Stop it to save "
                    "it, then start another",
                )
            self._bytes += size
            recorder.record(name, data, source, metadata)
            return {"status": "recorded", "index": recorder.event_count - 1}

    def stop(self) -> dict[str, Any]:
        with self._lock:
            recorder = self._active()
            recorder.stop_recording()
            cassette = recorder.to_cassette()
            filename = self._store.save_new(recorder.session_name, cassette)
            self._recorder = None
        return {"status": "stopped", "filename": filename, "total_events": len(cassette.events)}

    def status(self) -> dict[str, Any]:
        with self._lock:
            recorder = self._recorder
            if recorder is None:
                return {
                    "recording": False,
                    "session_name": None,
                    "total_events": 0,
                    "elapsed_ms": 0.0,
                }
            return {
                "recording": True,
                "session_name": recorder.session_name,
                "total_events": recorder.event_count,
                "elapsed_ms": round((time.monotonic() - self._started) * 1000, 3),
            }

    def _active(self) -> EventRecorder:
        if self._recorder is None:
            raise ApiError(409, "no recording in progress; POST /api/record/start first")
        return self._recorder


@dataclass
class Dashboard:
    """Everything the API serves from, kept in ``app.extensions["eventrecorder"]``."""

    config: EventRecorderConfig
    token: str | None
    store: RecordingStore
    replay: ReplayManager = field(default_factory=ReplayManager)
    live: LiveRecording = field(init=False)

    def __post_init__(self) -> None:
        self.live = LiveRecording(self.store)


def dashboard() -> Dashboard:
    state: Dashboard = current_app.extensions["eventrecorder"]
    return state


# --------------------------------------------------------------------------- guards


@api.before_request
def _guard() -> None:
    # Host and Origin are checked before this, by access.install_access.
    state = dashboard()
    if state.token is not None and not _authorized(state.token):
        raise ApiError(401, "missing or wrong token: send 'Authorization: Bearer <token>'")
    if request.method == "POST":
        _body()  # every POST body is checked, even where the endpoint needs none


def _authorized(token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        # EventSource cannot send headers: the stream alone also takes ?token=.
        given = request.args.get("token", "") if request.endpoint == "api.replay_stream" else ""
    return hmac.compare_digest(given.strip().encode(), token.encode())


# --------------------------------------------------------------------------- JSON out


class FiniteJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing NaN and Infinity: they are not JSON, and a browser's
    ``JSON.parse`` fails on the whole answer. A cassette holding one is a 422 naming it."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return super().dumps(obj, allow_nan=False, **kwargs)
        except ValueError as exc:
            if "JSON compliant" not in str(exc):
                raise
            raise ApiError(
                422,
                "the answer would hold a number JSON cannot carry (Infinity or NaN): "
                f"the recording holds a non-finite number ({exc})",
            ) from None

    def response(self, *args: Any, **kwargs: Any) -> BaseResponse:
        """Flask's answer, written by orjson where it writes the same bytes (see
        :mod:`.jsonout`): the standard library's encoder was a third of a page's CPU."""
        obj = self._prepare_response_obj(args, kwargs)
        data = compact_ascii(obj) if self._plain() else None
        if data is None:
            return super().response(obj)
        return self._app.response_class(data + b"\n", mimetype=self.mimetype)  # type: ignore[arg-type]

    def _plain(self) -> bool:
        """Compact, unsorted and ASCII-only, as Flask writes outside debug mode."""
        pretty = (self.compact is None and self._app.debug) or self.compact is False
        return not pretty and not self.sort_keys and self.ensure_ascii


@api.record_once
def _finite_json(state: Any) -> None:
    app: Flask = state.app
    provider = FiniteJSONProvider(app)
    provider.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    app.json = provider


# --------------------------------------------------------------------------- errors


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


@api.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    response, status = _error(exc.status, exc.message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="eventrecorder"'
    return response, status


@api.errorhandler(StoreError)
def _store_error(exc: StoreError) -> tuple[Response, int]:
    return _error(exc.status, exc.message)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return _error(exc.code or 400, _describe(exc))


@api.errorhandler(RecursionError)
def _too_deep(exc: RecursionError) -> tuple[Response, int]:
    # A cassette may hold data nested deeper than Python can walk (diff, search, JSON out)
    return _error(422, "the recording holds event data nested too deeply to process")


@api.errorhandler(OSError)
def _cannot_write(exc: OSError) -> tuple[Response, int]:
    # The folder is full, read-only or gone: say so (a live recording stays in memory)
    log.error("Cannot write to the recordings folder: %s", exc)
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return _error(
        507 if full else 500,
        f"the server cannot write to its recordings folder ({exc.strerror or exc}); "
        "nothing was lost: make room or fix the folder's permissions, then try again",
    )


@api.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("Unexpected error serving %s %s", request.method, request.path)
    return _error(500, f"internal error ({type(exc).__name__}); see the server log")


def _describe(exc: HTTPException) -> str:
    if exc.code == 413:
        return f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB"
    if exc.code == 405:
        return f"method {request.method} is not allowed on {request.path}"
    if exc.code == 404:
        return f"no API endpoint at {request.path} (see /api/openapi.json)"
    return exc.description or exc.name


def install_api_errors(app: Flask) -> None:
    """JSON errors for everything under ``/api``, including routing's 404 and 405 (which
    never reach a blueprint's handlers). Handlers the app already has keep serving pages."""
    for code, by_class in app.error_handler_spec[None].items():
        for cls, handler in list(by_class.items()):
            if code is not None or issubclass(cls, HTTPException):
                by_class[cls] = _api_first(handler)
    app.register_error_handler(HTTPException, _api_first(lambda exc: exc))


def _api_first(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def dispatch(exc: Any) -> Any:
        if isinstance(exc, HTTPException) and _under_api():
            return _http_error(exc)
        return handler(exc)

    return dispatch


def _under_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


# --------------------------------------------------------------------------- reading requests


def _body() -> dict[str, Any]:
    """The request's JSON object (``{}`` when there is no body), parsed once per request."""
    parsed: dict[str, Any] | None = g.get("eventrecorder_body")
    if parsed is None:
        parsed = g.eventrecorder_body = _parse_body()
    return parsed


def _parse_body() -> dict[str, Any]:
    data = request.get_data(cache=True)
    if request.content_length is None and len(data) >= MAX_BODY_BYTES:
        # Werkzeug cuts a chunked body off at the limit instead of refusing it
        raise RequestEntityTooLarge()
    if not data.strip():
        return {}
    if request.mimetype != "application/json":
        raise ApiError(415, "send the request body as JSON (Content-Type: application/json)")
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        bad_request(f"the request body is not valid JSON: {exc}")
    if not isinstance(value, dict):
        bad_request(f"the request body must be a JSON object, got {_kind(value)}")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    if key not in body or body[key] is None:
        if required:
            bad_request(f"field {key!r} is required")
        return None
    value = body[key]
    if not isinstance(value, str):
        bad_request(f"field {key!r} must be a non-empty string, got {_kind(value)}")
    if not value.strip():
        bad_request(f"field {key!r} must not be empty or blank")
    if len(value) > MAX_NAME:
        bad_request(f"field {key!r} must be at most {MAX_NAME} characters")
    return value


def _required_text(body: dict[str, Any], key: str) -> str:
    value = _text(body, key)
    assert value is not None
    return value


def _object(body: dict[str, Any], key: str) -> dict[str, JSONValue] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        bad_request(f"field {key!r} must be an object, got {_kind(value)}")
    return value


def _body_ms(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    number = _finite(value)
    if number is None or not number >= 0:
        bad_request(f"field {key!r} must be a number of milliseconds >= 0, got {_shown(value)}")
    return number


def _finite(value: object) -> float | None:
    """A JSON number as a finite float; ``None`` for anything else, an integer too large for
    a float included (``float()`` would raise ``OverflowError``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _shown(value: object) -> str:
    """A value for an error message: a 400-digit number is not repeated whole."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _speed(value: object) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and _finite(value) is None:
        bad_request(f"'speed' must be from {MIN_SPEED} to {MAX_SPEED:g}, got {_shown(value)}")
    try:
        return check_speed(value)
    except ValueError as exc:
        bad_request(str(exc))


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        bad_request(f"query parameter {name!r} must be a whole number, got {raw!r}")
    if not low <= value <= high:
        bad_request(f"query parameter {name!r} must be from {low} to {high}, got {value}")
    return value


def _ms_arg(name: str) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        bad_request(f"query parameter {name!r} must be a number of milliseconds, got {raw!r}")
    if not math.isfinite(value) or value < 0:
        bad_request(f"query parameter {name!r} must be a finite number >= 0, got {raw!r}")
    return value


def _choice_arg(name: str, choices: tuple[str, ...]) -> str:
    raw = request.args.get(name) or choices[0]
    if raw not in choices:
        bad_request(f"query parameter {name!r} must be one of {', '.join(choices)}; got {raw!r}")
    return raw


def _range_args() -> tuple[float | None, float | None]:
    low, high = _ms_arg("from_ms"), _ms_arg("to_ms")
    if low is not None and high is not None and low > high:
        bad_request(f"from_ms ({low:g}) must not be after to_ms ({high:g})")
    return low, high


# --------------------------------------------------------------------------- recordings


@api.get("/recordings")
def list_recordings() -> Response:
    state = dashboard()
    needle = request.args.get("q", "").casefold()
    sort = _choice_arg("sort", tuple(SORT_KEYS))
    order = _choice_arg("order", ("asc", "desc") if sort == "name" else ("desc", "asc"))
    found = [
        r
        for r in state.store.list_recordings()
        if needle in r["filename"].casefold() or needle in (r["session_name"] or "").casefold()
    ]
    found.sort(key=SORT_KEYS[sort], reverse=order == "desc")
    return jsonify(
        recordings=found, count=len(found), recordings_dir=str(state.config.recordings_dir)
    )


@api.get("/recording/<path:filename>")
def recording_details(filename: str) -> Response:
    index = dashboard().store.open(filename)
    header = index.header
    return jsonify(
        filename=index.filename,
        session_name=header.session_name,
        start_time=header.start_time,
        duration_ms=header.duration_ms,
        total_events=index.count,
        size_bytes=index.key[1],
        version=header.version,
        metadata=dict(header.metadata),
        event_summary=index.counts("event_name"),
        source_summary=index.counts("source"),
    )


@api.get("/recording/<path:filename>/events")
def recording_events(filename: str) -> Response:
    index = dashboard().store.open(filename)
    low, high = _range_args()
    try:
        query = EventQuery(
            event_names=tuple(request.args.getlist("event_name")),
            sources=tuple(request.args.getlist("source")),
            text=request.args.get("q", "").strip(),
            field=request.args.get("field", "").strip(),
            value=request.args.get("value"),
            from_ms=low,
            to_ms=high,
        )
    except ValueError as exc:
        bad_request(str(exc))
    offset = _int_arg("offset", 0, 0, 2**62)
    limit = _int_arg("limit", 100, 0, MAX_PAGE)
    events, total = index.page(query, offset, limit)
    return jsonify(events=events, total=total, offset=offset, limit=limit)


@api.get("/recording/<path:filename>/fields")
def recording_fields(filename: str) -> Response:
    cols = dashboard().store.open(filename).columns
    return jsonify(
        event_names=sorted(cols.names),
        sources=sorted(s for s in cols.sources if s),
        fields=sorted(cols.paths),
    )


@api.get("/recording/<path:filename>/timeline")
def recording_timeline(filename: str) -> Response:
    index = dashboard().store.open(filename)
    buckets = _int_arg("buckets", 200, 1, MAX_BUCKETS)
    by = _choice_arg("by", ("source", "event_name"))
    low, high = _range_args()
    return jsonify(index.timeline(by, buckets, low, high))


@api.post("/recording/create")
def create_recording() -> tuple[Response, int]:
    body = _body()
    store = dashboard().store
    source = _required_text(body, "source_filename")
    session_name = _required_text(body, "new_session_name")
    index = store.open(check_name(source))
    events, shift_ms = _picked(index, body)
    if not events:
        bad_request("the selection holds no events: nothing to save")
    cassette = Cassette.build(
        session_name,
        events,
        start_time=_moved_start(index.header.start_time, shift_ms),
        metadata={**index.header.metadata, "derived_from": index.filename},
    )
    filename = store.save_new(session_name, cassette, suffix_of(source))
    return jsonify(
        filename=filename, session_name=session_name, total_events=len(cassette.events)
    ), 201


def _moved_start(start_time: str, shift_ms: float) -> str:
    """The start time of a time range saved on its own: its first moment, not the source's."""
    try:
        return shift_iso(start_time, shift_ms) if shift_ms else start_time
    except ValueError as exc:
        bad_request(str(exc))


def _picked(index: EventIndex, body: dict[str, Any]) -> tuple[list[RecordedEvent], float]:
    """The events chosen by ``event_indices``, or by ``from_ms``/``to_ms``, rebased to 0;
    and how far the start time moves with them."""
    has_range = body.get("from_ms") is not None or body.get("to_ms") is not None
    indices = body.get("event_indices")
    if (indices is None) == (not has_range):
        given = "both" if has_range else "neither"
        bad_request(
            "send either 'event_indices' (a list of event positions) "
            f"or 'from_ms'/'to_ms' (a time range); this request has {given}"
        )
    if indices is not None:
        return list(index.events_at(_check_indices(indices, index.count))), 0.0
    low, high = _body_ms(body, "from_ms"), _body_ms(body, "to_ms")
    if low is not None and high is not None and low > high:
        bad_request(f"from_ms ({low:g}) must not be after to_ms ({high:g})")
    chosen = index.matching(EventQuery(from_ms=low, to_ms=high))
    shift = low or 0.0
    return [e.shifted(-shift) for e in index.events_at(chosen)], shift


def _check_indices(indices: object, count: int) -> list[int]:
    if not isinstance(indices, list) or not indices:
        bad_request(
            f"field 'event_indices' must be a non-empty list of whole numbers, got {_kind(indices)}"
        )
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, int):
            bad_request(f"field 'event_indices' must hold whole numbers, got {i!r}")
        if not 0 <= i < count:
            bad_request(f"event index {i} is out of range: the recording has {count} events")
    return sorted(set(indices))


# --------------------------------------------------------------------------- recording


@api.post("/record/start")
def record_start() -> Response:
    body = _body()
    name = _required_text(body, "session_name")
    return jsonify(dashboard().live.start(name, _object(body, "metadata")))


@api.post("/record/event")
def record_event() -> Response:
    body = _body()
    name = _required_text(body, "event_name")
    if "event_data" not in body:
        bad_request("field 'event_data' is required (any JSON value, null included)")
    source = _text(body, "source", required=False)
    return jsonify(
        dashboard().live.record(name, body["event_data"], source, _object(body, "metadata"))
    )


@api.post("/record/stop")
def record_stop() -> Response:
    return jsonify(dashboard().live.stop())


@api.get("/record/status")
def record_status() -> Response:
    return jsonify(dashboard().live.status())


# --------------------------------------------------------------------------- replay


@api.post("/replay/start/<path:filename>")
def replay_start(filename: str) -> Response:
    body = _body()
    state = dashboard()
    speed = None if body.get("speed") is None else _speed(body["speed"])
    refuse_replay(filename)
    index = state.store.open(filename)
    return jsonify(state.replay.start(index, speed))


@api.post("/replay/pause")
def replay_pause() -> Response:
    try:
        return jsonify(dashboard().replay.toggle_pause())
    except LookupError as exc:
        raise ApiError(409, str(exc)) from None


@api.post("/replay/stop")
def replay_stop() -> Response:
    return jsonify(dashboard().replay.stop())


@api.post("/replay/speed")
def replay_speed() -> Response:
    body = _body()
    if body.get("speed") is None:
        bad_request("field 'speed' is required")
    return jsonify(dashboard().replay.set_speed(_speed(body["speed"])))


@api.get("/replay/status")
def replay_status() -> Response:
    return jsonify(dashboard().replay.status())


@api.get("/replay/stream")
def replay_stream() -> Response:
    """Server-sent events: the replay status whenever it changes, until it ends."""
    manager = dashboard().replay
    interval = current_app.config.get("EVENTRECORDER_STREAM_INTERVAL", STREAM_INTERVAL_S)
    return Response(
        _status_messages(manager, interval),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _status_messages(manager: ReplayManager, interval: float) -> Iterator[str]:
    last, quiet_since = "", time.monotonic()
    while True:
        status = manager.status()
        text = json.dumps(status)
        if text != last:
            yield f"data: {text}\n\n"
            last, quiet_since = text, time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_S:
            yield ": keepalive\n\n"
            quiet_since = time.monotonic()
        if status["status"] in TERMINAL:
            return
        time.sleep(interval)


# --------------------------------------------------------------------------- diff and docs


@api.get("/diff")
def diff() -> Response:
    store = dashboard().store
    names = {}
    for side in ("a", "b"):
        value = request.args.get(side)
        if not value:
            bad_request(f"query parameter {side!r} (a recording's file name) is required")
        names[side] = value
    a, b = store.open(names["a"]), store.open(names["b"])
    try:  # streamed: events are read once, never all held (see compare.DiffStream)
        stream = DiffStream(
            stream_events(a), stream_events(b), ignore_fields=request.args.getlist("ignore_field")
        )
    except ValueError as exc:
        bad_request(str(exc))
    found, counts = first_differences(stream, MAX_DIFFERENCES)
    total = sum(counts.values())
    return jsonify(
        equal=not total,
        differences=[d.to_dict() for d in found],
        total_differences=total,
        counts=dict(counts.most_common()),
        truncated=total > MAX_DIFFERENCES,
        warnings=[unmatched_note(path, "ignore_field") for path in stream.unmatched_paths],
        a=_summary(a),
        b=_summary(b),
    )


def _summary(index: EventIndex) -> dict[str, Any]:
    return {
        "filename": index.filename,
        "session_name": index.header.session_name,
        "start_time": index.header.start_time,
        "total_events": index.count,
        "duration_ms": index.duration_ms,
        "event_summary": index.counts("event_name"),
    }


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(token_required=dashboard().token is not None))
