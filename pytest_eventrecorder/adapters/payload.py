"""Broker payloads (bytes) as readable event data, and back to the very same bytes.

A payload is recorded as JSON when it is JSON, else as UTF-8 text, else as tagged bytes
(``{"__bytes__": "<base64>"}``, as :func:`~pytest_eventrecorder.serialize.snapshot` writes
them). Re-encoding that value does not always give the original bytes back (whitespace,
key order, escapes, ``1.0`` vs ``1``); then the exact bytes are kept in the event's
metadata under :data:`RAW_KEY`, and replay sends them, unless the event data was edited
since (then the edited data is encoded).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping

from ..cassette import JSONValue, RecordedEvent
from ..serialize import BYTES_TAG, restore, snapshot

RAW_KEY = "payload_b64"
"""Metadata key holding the payload's exact bytes (base64) when re-encoding would differ."""


class _NotJSON(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: JSON that Python reads as inf
        raise _NotJSON(text)
    return value


def _no_constants(name: str) -> None:
    raise _NotJSON(name)  # NaN / Infinity are not JSON


def decode_payload(raw: bytes) -> JSONValue:
    """The payload as JSON data, else text, else tagged bytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {BYTES_TAG: base64.b64encode(raw).decode("ascii")}
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        return text
    try:
        _dump(value)
    except (UnicodeEncodeError, RecursionError):  # "\ud800": JSON no file can hold as data
        return text
    return value


def encode_payload(payload: object) -> bytes:
    """Bytes to send for an event object: bytes as is, text as UTF-8, anything else as JSON."""
    if isinstance(payload, bytes | bytearray | memoryview):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    return _dump(snapshot(payload))


def _dump(value: JSONValue) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def describe_payload(raw: bytes) -> tuple[JSONValue, dict[str, JSONValue]]:
    """``(event_data, metadata)`` for a received payload; the metadata keeps the exact bytes
    only when encoding ``event_data`` again would not reproduce them."""
    data = decode_payload(raw)
    if encode_payload(restore(data)) == raw:
        return data, {}
    return data, {RAW_KEY: base64.b64encode(raw).decode("ascii")}


def payload_bytes(event: RecordedEvent, payload: object) -> bytes:
    """The bytes to publish for a recorded event: the exact recorded ones while the event
    data still matches them, else ``payload`` (the rebuilt event) encoded."""
    try:
        raw = recorded_bytes(event.metadata)
    except ValueError as exc:
        raise ValueError(f"event {event.event_name!r}: {exc}") from None
    if raw is not None and decode_payload(raw) == event.event_data:
        return raw
    return encode_payload(payload)


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
