"""Broker payloads (bytes) as readable event data, and back to the very same bytes.

A payload is recorded as JSON when it is JSON, else as UTF-8 text, else as tagged bytes
(``{"__bytes__": "<base64>"}``, as :func:`~pytest_eventrecorder.serialize.snapshot` writes
them). Re-encoding that value does not always give the original bytes back (whitespace,
key order, escapes, ``1.0`` vs ``1``). If Python's ``json.dumps`` layout reproduces them,
the metadata says so (:data:`JSON_STYLE_KEY`); otherwise the exact bytes are kept in the
metadata under :data:`RAW_KEY`, and replay sends them unless the event data was edited
since (then the edited data is encoded). A payload holding values the recording redacts
(``{"token": ...}``, or a key of the recorder's own ``redaction``) keeps no bytes: replay
sends its redacted data, encoded; nor does one whose data a ``before_record`` hook changed.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any

from .. import codec
from ..cassette import JSONValue, RecordedEvent
from ..serialize import (
    BYTES_TAG,
    DEFAULT_REDACTION,
    NO_REDACTION,
    Redaction,
    has_tags,
    restore,
    snapshot,
)

RAW_KEY = "payload_b64"
"""Metadata key holding the payload's exact bytes (base64) when re-encoding would differ."""
JSON_STYLE_KEY = "payload_json"
"""Metadata naming the JSON layout that reproduces the payload, when not the compact one."""

_JSON_STYLES: dict[str, dict[str, Any]] = {
    "compact": {"ensure_ascii": False, "separators": (",", ":")},  # JS, Go, most encoders
    "python": {"ensure_ascii": True, "separators": (", ", ": ")},  # Python's json.dumps()
}


class _NotJSON(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: JSON that Python reads as inf
        raise _NotJSON(text)
    return value


def _no_constants(name: str) -> None:
    raise _NotJSON(name)  # NaN / Infinity are not JSON


# Built once: json.loads / json.dumps with options build a new decoder or encoder per call,
# which cost more than decoding a small payload.
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constants)
_ENCODERS = {
    style: json.JSONEncoder(allow_nan=False, **options) for style, options in _JSON_STYLES.items()
}


def decode_payload(raw: bytes) -> JSONValue:
    """The payload as JSON data, else text, else tagged bytes."""
    return _decoded(raw)[0]


def _decoded(raw: bytes) -> tuple[JSONValue, bytes | None]:
    """The payload's data, and its compact JSON encoding (``None``: text or bytes, not JSON).

    The fast decoder reads exactly what the standard library reads, to the same values,
    or refuses (lone surrogates, 1e999, deep nesting...): then the standard library decides.
    """
    parsed = codec.fast_loads(raw)
    if parsed is None:
        return _decoded_by_stdlib(raw)
    try:
        return parsed[0], _compact(parsed[0])
    except (UnicodeEncodeError, RecursionError):
        return raw.decode("utf-8"), None


def _decoded_by_stdlib(raw: bytes) -> tuple[JSONValue, bytes | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {BYTES_TAG: base64.b64encode(raw).decode("ascii")}, None
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError):
        return text, None
    try:
        return value, _compact(value)
    except (UnicodeEncodeError, RecursionError):  # "\ud800": JSON no file can hold as data
        return text, None


def _compact(value: JSONValue) -> bytes:
    fast = codec.fast_dumps(value)
    return fast if fast is not None else _dump(value)


def encode_payload(payload: object) -> bytes:
    """Bytes to send for an event object: bytes as is, text as UTF-8, anything else as JSON."""
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return _dump(snapshot(payload, NO_REDACTION))  # sent as given: redaction is for records


def _dump(value: JSONValue, style: str = "compact") -> bytes:
    return _ENCODERS[style].encode(value).encode()


def describe_payload(
    raw: bytes, redaction: Redaction = DEFAULT_REDACTION
) -> tuple[JSONValue, dict[str, JSONValue]]:
    """``(event_data, metadata)`` for a received payload. The metadata says how to get the
    same bytes back: nothing when encoding ``event_data`` again does, the JSON layout when
    that suffices, else the exact bytes; nothing either when ``event_data`` holds a value
    ``redaction`` (the recording's) hides, which the bytes would keep.

    Decoded once and encoded at most twice (compact, then Python's layout if that fails)."""
    data, compact = _decoded(raw)
    if compact is None:  # text or tagged bytes: encoding them gives these very bytes back
        return data, {}
    if type(data) in _CONTAINERS and snapshot(data, redaction) != data:
        return data, {}  # credentials the recording hides: their bytes are not kept
    if _encoded_again(data, compact) == raw:
        return data, {}
    if compact == raw:
        return data, {JSON_STYLE_KEY: "compact"}
    if _dumps_to(data, "python") == raw:
        return data, {JSON_STYLE_KEY: "python"}
    return data, {RAW_KEY: base64.b64encode(raw).decode("ascii")}


_CONTAINERS = (dict, list)


def _encoded_again(data: JSONValue, compact: bytes) -> bytes:
    """``encode_payload(restore(data))``: the compact encoding itself, unless ``data`` is
    text (sent without quotes) or holds tags that restoring turns into bytes or floats."""
    if type(data) is str:
        return data.encode("utf-8")
    if type(data) in _CONTAINERS and has_tags(data):
        return encode_payload(restore(data))
    return compact


def _dumps_to(data: JSONValue, style: str) -> bytes | None:
    try:
        return _dump(data, style)
    except (ValueError, TypeError):
        return None


def payload_bytes(event: RecordedEvent, payload: object) -> bytes:
    """The bytes to publish for a recorded event: the exact recorded ones while the event
    data still matches them, else ``payload`` (the rebuilt event) encoded."""
    try:
        raw = recorded_bytes(event.metadata)
    except ValueError as exc:
        raise ValueError(f"event {event.event_name!r}: {exc}") from None
    if raw is not None and decode_payload(raw) == event.event_data:
        return raw
    style = (event.metadata or {}).get(JSON_STYLE_KEY)
    if isinstance(style, str) and style in _JSON_STYLES:
        return _dump(snapshot(payload, NO_REDACTION), style)
    return encode_payload(payload)


def without_stale_bytes(
    metadata: dict[str, JSONValue] | None, data: JSONValue
) -> dict[str, JSONValue] | None:
    """``metadata`` without the exact payload bytes once ``data`` no longer reads from them:
    a ``before_record`` hook that edited the data may have hidden a value the bytes hold."""
    try:
        raw = recorded_bytes(metadata)
    except ValueError:  # not ours to judge: replay names the bad value
        return metadata
    if raw is None or metadata is None or decode_payload(raw) == data:
        return metadata
    return {key: value for key, value in metadata.items() if key != RAW_KEY}


def recorded_bytes(metadata: Mapping[str, JSONValue] | None) -> bytes | None:
    """The exact payload bytes kept in an event's metadata, if any."""
    encoded = (metadata or {}).get(RAW_KEY)
    if encoded is None:
        return None
    try:
        if not isinstance(encoded, str):
            raise TypeError
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError(f"metadata {RAW_KEY!r} is not valid base64: {encoded!r:.60}") from None
