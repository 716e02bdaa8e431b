"""``.jsonl`` event lines decoded straight into the columns an index keeps, by msgspec.

With the ``[fast]`` extra installed, a batch of lines is decoded by msgspec into typed rows
(2-3x faster than the standard library's dicts, and no :class:`RecordedEvent` per line). It
is only a shortcut: msgspec refuses everything the standard library's strict decoder refuses
(NaN, ``1e400``, integers past the digit limit, bad UTF-8), and more (lone surrogates,
unknown or missing fields, wrong types), and whatever it refuses goes the standard way, which
accepts it or words the error. So an index is the same with or without the extra.
"""

from __future__ import annotations

from typing import Any

try:
    import msgspec
except ImportError:  # the [fast] extra is optional
    msgspec = None  # type: ignore[assignment]


if msgspec is not None:

    class Row(msgspec.Struct, forbid_unknown_fields=True, gc=False):
        """One event line as the index reads it: any other key sends it the standard way."""

        timestamp_offset_ms: float
        event_name: str
        event_data: Any
        source: str | None
        event_type: str | None = None
        metadata: dict[str, Any] | None = None

    _DECODE = msgspec.json.Decoder(list[Row]).decode
    _ERRORS: tuple[type[BaseException], ...] = (msgspec.DecodeError, RecursionError)
else:
    _DECODE = None
    _ERRORS = ()


def decode_rows(lines: list[bytes]) -> list[Any] | None:
    """The lines as rows (attributes named as an event's fields), or ``None`` when the
    extra is missing or refuses them (the standard reader then decides)."""
    if _DECODE is None:
        return None
    try:
        rows: list[Any] = _DECODE(b"[%b]" % b",".join(lines))
    except _ERRORS:
        return None
    # A blank line breaks the array; a line holding two values lengthens it.
    return rows if len(rows) == len(lines) else None
