"""JSON decoding and encoding for cassette files: msgspec and orjson when installed (the
``[fast]`` extra), the standard library otherwise, with the same results either way.

msgspec decodes (it reads integers of any length exactly, as the standard library does, up
to the same digit limit; orjson reads one beyond 64 bits as a float, silently, and guarding
against that cost a third of a replay); orjson encodes (its float notation differs from
Python's in fewer cases than msgspec's). Where they still differ, it is handled here, so a
file is byte for byte the same and reads back to the same values whichever path ran:

- anything msgspec refuses (lone surrogates, NaN tokens, 1e400, deep nesting) goes to the
  standard library, which accepts it or raises its own error: error messages and what is
  refused never depend on the extra;
- orjson writes NaN and infinities as ``null`` (silently): output holding ``null`` is written
  again by the standard library, which refuses non-finite numbers or writes the same bytes;
- orjson writes some floats in another notation (``0.00001`` for ``1e-05``, ``1e-7`` for
  ``1e-07``): output holding either form is written by the standard library, as is anything
  orjson refuses (lone surrogates, ints beyond 64 bits, deep nesting, non-string keys).
"""

from __future__ import annotations

import contextlib
import gc
import json
import re
from collections.abc import Iterator
from typing import Annotated, Any

from .cassette import CassetteError

try:
    import msgspec
except ImportError:  # the [fast] extra is optional
    msgspec = None  # type: ignore[assignment]
try:
    import orjson
except ImportError:
    orjson = None  # type: ignore[assignment]

FAST = msgspec is not None and orjson is not None
"""Whether the ``[fast]`` extra is installed (each library is used whenever present)."""

_ODD_EXPONENT = re.compile(rb"\de-\d(?!\d)")
"""With ``null`` and ``0.0000``: orjson output the standard library would write differently
(or refuse). Searched for only where ``e-`` occurs: a regular expression alternation scans
each byte (3 us a line), a substring test is a memchr."""
_FAST_DECODE = msgspec.json.Decoder().decode if msgspec is not None else None
FAST_DECODE = _FAST_DECODE is not None
"""Whether msgspec decodes (the standard library reads only what it refuses)."""


def _offset_type() -> Any:
    """An offset the full check takes as it is: an int (ints stay ints) or a finite float,
    >= 0; an int past 64 bits fails it and goes the general way."""
    return Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)] | Annotated[float, msgspec.Meta(ge=0)]


def _list_decoder(name: str, *optional: tuple[str, Any, Any]) -> Any:
    """msgspec's decoder of a JSON array of events each of the type the full check takes as
    it is (``cassette._all_plain``): the seed's four fields, then ``optional`` ones (name,
    type, default); anything else (unknown fields, an offset past 64 bits...) fails it, and
    goes the general way. Validated in C, where the check of parsed rows cost 0.4 us an
    event."""
    if msgspec is None:
        return None
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
        ("timestamp_offset_ms", _offset_type()),
        ("event_name", str),
        ("event_data", Any),
        ("source", str | None),
        *optional,
    ]
    row: Any = msgspec.defstruct(name, fields, forbid_unknown_fields=True, gc=False)
    return msgspec.json.Decoder(list[row])


_ROWS = _list_decoder("Row")
"""``.jsonl`` lines holding the seed's four fields alone (:func:`event_rows`): typed rows
skip a dict and a Python check per event, and are decoded from bytes (no text)."""
_AS_DICT = msgspec.structs.asdict if msgspec is not None else None


def event_rows(data: bytes | memoryview) -> list[dict[str, Any]] | None:
    """The values of whole lines of events (``data`` ends with a newline; see
    :data:`_ROWS`), as the standard library reads them, when msgspec reads each line
    as such an event; ``None`` when the general path must."""
    if _ROWS is None:
        return None
    # The lines become the items of one array, as the standard library's batches join them,
    # so a blank line, two values on one line or one value over two lines is no JSON.
    # msgspec's decode_lines took any whitespace between values for a line's end: counting
    # its values let a lost newline through when a blank line made up the count. A newline
    # in JSON is only ever whitespace between tokens, and replace() runs at memchr's speed
    # (15 ns an event; translate() took 75).
    items = b"".join((b"[", data[:-1], b"]")).replace(b"\n", b",")
    try:
        rows = _ROWS.decode(items)
    except (msgspec.DecodeError, RecursionError):
        return None
    return list(map(_AS_DICT, rows))


_ARRAY = (
    None
    if msgspec is None
    else _list_decoder(
        "Event",
        ("event_type", str | None | msgspec.UnsetType, msgspec.UNSET),
        ("metadata", dict[str, Any] | None | msgspec.UnsetType, msgspec.UNSET),
    )
)
"""A ``.json`` document's events (:func:`plain_event_rows`), with the optional type and
metadata when present (``UNSET`` when absent, which ``to_builtins`` leaves out, as the file
did)."""


def plain_event_rows(data: bytes) -> list[dict[str, Any]] | None:
    """The rows of a JSON array of events (see :data:`_ARRAY`), as the standard
    library reads them, each a new dict with the file's fields in the format's order;
    ``None`` when msgspec is not installed or refuses the text or an event in it."""
    if _ARRAY is None:
        return None
    try:
        rows: list[dict[str, Any]] = msgspec.to_builtins(_ARRAY.decode(data))
    except (msgspec.DecodeError, RecursionError):
        return None
    return rows


def _reject_constant(name: str) -> None:
    raise CassetteError(f"{name} is not a JSON number; cassettes hold finite numbers only")


DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""The standard library's decoder as cassettes use it: NaN and Infinity tokens refused."""
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """One JSON value, as the standard library (``DECODER``) reads it."""
    parsed = fast_loads(text)
    if parsed is not None:
        return parsed[0]
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return DECODER.decode(text)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789E", b"000000000e")
_OVERFLOW_EXPONENT = b"e000"
_OVERFLOW_DIGITS = b"0" * 200


def may_overflow(data: bytes) -> bool:
    """Whether the standard library may read a number in ``data`` as infinity: only one
    with an exponent of three or more digits, or with 210 or more digits before its point,
    goes past the float range. A bytes scan (about 1.5 ms a megabyte, where regular
    expressions took 15 to 50): digits become ``0`` and signs are dropped, so ``1E+400``
    reads ``0e000``. It may flag finite numbers (``1e-400``, a UUID's ``0e8400``), never
    miss one; ``rfind`` because its skip looks at the needle's rare first byte."""
    plain = data.translate(_DIGITS_AS_ZERO, b"+-")
    return plain.rfind(_OVERFLOW_EXPONENT) >= 0 or _OVERFLOW_DIGITS in plain


def fast_loads(text: str | bytes) -> tuple[Any] | None:
    """``(value,)`` when the fast decoder is installed and reads ``text``; ``None`` when
    the standard library must decide (and word any error)."""
    if _FAST_DECODE is None:
        return None
    try:
        return (_FAST_DECODE(text),)
    except (msgspec.DecodeError, RecursionError):
        return None


@contextlib.contextmanager
def gc_paused(*, kept: bool = False) -> Iterator[None]:
    """The garbage collector paused while a whole document is parsed and adopted: parsed
    JSON holds no cycles, yet every collection meanwhile walks all of it (1.8x on a
    1M-event ``.json``). Another thread that pauses it too leaves it to the first.

    ``kept``: what the block made stays (a loaded cassette), so it is moved to the oldest
    generation unwalked (:func:`_promote_young`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if kept:
                _promote_young()
            gc.enable()


def _promote_young() -> None:
    """Every object the collector tracks moved to its oldest generation without a walk:
    the first collection after the pause walked all that was parsed meanwhile, to find no
    cycles (0.43-0.53 us per event of a 200k-event ``.json``, a sixth of its load). Young
    garbage cycles of others are then collected by the next full collection instead.
    Skipped when someone froze objects: ``unfreeze`` would release theirs too."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def dumps_line(value: Any) -> bytes:
    """``value`` as one line of compact JSON (no spaces, non-ASCII kept as UTF-8, a lone
    surrogate as its ``\\udXXX`` escape), ending in a newline, as the standard library writes
    it; a non-finite number or an int too long for text raises ``ValueError``."""
    data = _orjson_bytes(value, _NEWLINE)
    if data is not None:
        return data
    return (_ENCODER.encode(value) + "\n").encode("utf-8", "backslashreplace")


def fast_dumps(value: Any) -> bytes | None:
    """``value`` as compact JSON, byte for byte as the standard library writes it, when the
    fast encoder can write it so; ``None`` when the standard library must."""
    return _orjson_bytes(value, 0)


def dumps_indented(value: Any) -> str:
    """``value`` as JSON text indented by two spaces, as ``json.dumps(indent=2)`` writes it."""
    data = _orjson_bytes(value, _INDENT)
    if data is not None:
        return data.decode("utf-8")
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)


def _orjson_bytes(value: Any, option: int) -> bytes | None:
    """orjson's encoding of ``value``, or ``None`` when the standard library must write it."""
    if orjson is None:
        return None
    try:
        data = orjson.dumps(value, option=option)
    except (TypeError, orjson.JSONEncodeError):
        return None
    return None if _odd(data) else data


def _odd(data: bytes) -> bool:
    return b"null" in data or odd_floats(data)


def odd_floats(data: bytes) -> bool:
    """Whether orjson may have written a float in another notation than the standard
    library's (a string holding the same characters counts too: the check stays cheap)."""
    return b"0.0000" in data or (b"e-" in data and _ODD_EXPONENT.search(data) is not None)


_INDENT = orjson.OPT_INDENT_2 if orjson is not None else 0
_NEWLINE = orjson.OPT_APPEND_NEWLINE if orjson is not None else 0
