"""Turning event objects into JSON-safe snapshots, and snapshots back into typed events.

A snapshot is taken at publish time and shares nothing mutable with the published object,
so a later mutation of the event cannot rewrite the recording. Values that have no faithful
JSON form are tagged (``{"__bytes__": ...}``, ``{"__float__": "nan"}``, ``{"__exception__":
...}``) or, if they cannot be converted at all, replaced by an ``{"__unserializable__": ...}``
marker: snapshotting never raises into the publisher.

Data (dicts, lists and other containers, dataclasses, attrs and pydantic classes,
NamedTuples, Enums, scalars) is walked in full. Any other object gets a shallow view: its
public attributes, where containers of plain values are kept and any further object is a
marker, so a snapshot never wanders from a request into its application's configuration.
Modules, classes, functions, callable objects (applications) and environments (``os.environ``,
WSGI environs) are never descended into. Values under keys that look like credentials are
replaced by :data:`REDACTED` (see :class:`Redaction`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import enum
import functools
import importlib
import inspect
import itertools
import keyword
import math
import numbers
import operator
import os
import re
import sys
import types
import typing
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Sequence as AbcSequence
from collections.abc import Set as AbcSet
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from . import codec
from .cassette import JSONValue, RecordedEvent, parse_iso

try:
    import msgspec
except ImportError:  # the [fast] extra is optional
    msgspec = None  # type: ignore[assignment]
try:
    import orjson
except ImportError:
    orjson = None  # type: ignore[assignment]

BYTES_TAG = "__bytes__"
FLOAT_TAG = "__float__"
EXCEPTION_TAG = "__exception__"
UNSERIALIZABLE_TAG = "__unserializable__"
REDACTED = "[REDACTED]"
"""What a value under a credential-like key is recorded as (as the plugin's ``redact=``)."""
MAX_DEPTH = 64
VIEW_ITEMS = 64
"""A shallow view holds at most this many attributes, and containers of at most this many
items; a bigger one is a marker."""

_NONE = type(None)
_ATOMS = frozenset((str, int, bool, _NONE))
"""Exact types a snapshot keeps as they are (subclasses such as IntEnum are converted)."""
_TAGS = frozenset((BYTES_TAG, FLOAT_TAG))


class EventRebuildError(ValueError):
    """A recorded event's class was found but the recorded data no longer fits it."""


# --------------------------------------------------------------------------- redaction

DEFAULT_REDACT_KEYS = (
    "password",
    "passwords",
    "passwd",
    "secret",
    "secrets",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "cookies",
    "set-cookie",
    "private_key",
    "credential",
    "credentials",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _words(key: str) -> tuple[str, ...]:
    """``"X-Api-Key"``, ``"apiKey"``, ``"API_KEY"`` -> ``("api", "key")``."""
    return tuple(word.lower() for word in _WORD.findall(key))


class Redaction:
    """Which keys' values a snapshot replaces by :data:`REDACTED`: those whose words
    (split at ``_``, ``-``, ``.``, spaces and camelCase, case-insensitive) contain the words
    of one of ``keys`` in a row. ``Redaction(())`` redacts nothing; extend the default with
    ``Redaction([*DEFAULT_REDACT_KEYS, "ssn"])``. A key that is no text is judged as the text
    it is recorded as (an Enum as its value). Verdicts are cached per text key."""

    def __init__(self, keys: Iterable[str] = DEFAULT_REDACT_KEYS) -> None:
        self.keys = tuple(keys)
        self._patterns = tuple(p for p in map(_words, self.keys) if p)
        self._verdicts = _Verdicts(self._matches)
        self.hides: Callable[[object], bool] = self._verdicts.__getitem__
        """Whether the value under ``key`` is hidden (a dict look-up once a key was seen)."""
        self._needles = tuple(re.compile(needle).search for needle in _needles(self._patterns))

    def may_hide(self, encoded: bytes) -> bool:
        """Whether JSON text may hold a key this redaction hides (``False``: it surely does
        not): a hidden key holds every word of its pattern, and JSON never escapes a letter
        or a digit, so the text holds that word too, in some case."""
        if not self._needles:
            return False
        text = encoded.lower()
        return any(search(text) for search in self._needles)  # re: twice as fast as `in`

    def hides_any(self, keys: Iterable[object]) -> bool:
        return self._patterns != () and any(map(self.hides, keys))

    def _matches(self, key: str) -> bool:
        if not self._patterns:
            return False
        words = _words(key)
        for pattern in self._patterns:
            size = len(pattern)
            if any(words[i : i + size] == pattern for i in range(len(words) - size + 1)):
                return True
        return False


def _needles(patterns: tuple[tuple[str, ...], ...]) -> tuple[bytes, ...]:
    """One word of each pattern (its longest), as bytes, leaving out any that holds another:
    text that holds ``password`` holds ``passw``, so one search does for both."""
    words = {max(pattern, key=len).encode("ascii") for pattern in patterns}
    return tuple(sorted(w for w in words if not any(o != w and o in w for o in words)))


class _Verdicts(dict[object, bool]):
    """Key -> hidden?, worked out on the first look-up of each text key; any other key is
    judged as the text it is recorded as (an Enum as its value)."""

    def __init__(self, decide: Callable[[str], bool]) -> None:
        super().__init__()
        self._decide = decide

    def __missing__(self, key: object) -> bool:
        if type(key) is not str:
            # Never cached: a str Enum member equals its text, so its entry would answer
            # for that text too, for the rest of the process.
            return self._decide(_key(key))
        if len(self) >= _CACHE_SIZE:
            self.clear()  # keys made from data must not pin memory for ever
        verdict = self[key] = self._decide(key)
        return verdict


DEFAULT_REDACTION = Redaction()
NO_REDACTION = Redaction(())


class _Walk:
    """One snapshot under way: the ids of the containers being converted (a value met again
    inside its own conversion refers back to itself), the redaction in force, and the depth
    at which the shallow view of a non-data object began (``None``: not inside one)."""

    __slots__ = ("active", "redaction", "view")

    def __init__(self, redaction: Redaction, first: int) -> None:
        self.active = {first}
        self.redaction = redaction
        self.view: int | None = None


# --------------------------------------------------------------------------- snapshot


def snapshot(obj: Any, redaction: Redaction = DEFAULT_REDACTION) -> JSONValue:
    """A deep, JSON-safe copy of ``obj``; never raises."""
    if type(obj) is dict:  # a flat dict's copy is its snapshot: no walk (half the cost)
        copied = obj.copy()  # first: another thread changing it cannot break the check
        if _is_flat(copied) and not redaction.hides_any(copied):
            return copied
    flat_fields = _FLAT_FIELDS.get(type(obj)) if redaction is DEFAULT_REDACTION else None
    if flat_fields is not None:  # the usual event, one small object: inline
        try:
            flat = flat_fields(obj)
        except Exception:  # the general path below marks what is broken
            flat = None
        if flat is not None:
            return flat
    return snapshot_unpacked(obj, redaction)


def snapshot_unpacked(obj: Any, redaction: Redaction = DEFAULT_REDACTION) -> JSONValue:
    """:func:`snapshot` of an object :func:`pack` refused: the shortcut it just tried is
    not tried again (it would read every field once more)."""
    kind = type(obj)
    if kind in _ATOMS:
        return obj
    if kind is float:
        return _finite(obj)
    try:
        return (_CONVERTER_CACHE.get(kind) or _converter(kind))(obj, 1, _Walk(redaction, id(obj)))
    except Exception as exc:  # a broken property or model_dump must not reach the publisher
        return _marker(obj, f"{type(exc).__name__}: {exc}")


def event_type_of(obj: object) -> str | None:
    """``"module:QualName"`` of a typed event, ``None`` for plain data."""
    return type_name(type(obj))


def type_name(cls: type) -> str | None:
    """:func:`event_type_of` for an event of class ``cls``."""
    try:
        return _TYPE_NAMES[cls]
    except KeyError:
        name = None
        if cls.__module__ != "builtins" and cls not in _PLAIN_TYPES:
            name = f"{cls.__module__}:{cls.__qualname__}"
        if len(_TYPE_NAMES) < _CACHE_SIZE:
            _TYPE_NAMES[cls] = name
        return name


_CACHE_SIZE = 4096
_TYPE_NAMES: dict[type, str | None] = {}


_PLAIN_TYPES = frozenset((dict, list, tuple, set, frozenset, str, bytes, int, float, bool))


def _float_tag(value: float) -> dict[str, str]:
    return {FLOAT_TAG: repr(value)}


def _finite(value: float) -> JSONValue:
    return value if value - value == 0 else _float_tag(value)  # inf - inf and nan are nan


def _convert(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    """Snapshot of one value at ``depth``."""
    kind = type(obj)
    if kind in _ATOMS:
        return obj
    if kind is float:
        return _finite(obj)
    if depth > MAX_DEPTH:
        return _marker(obj, f"nested deeper than {MAX_DEPTH} levels")
    key = id(obj)
    if key in walk.active:
        return _marker(obj, "refers back to itself")
    walk.active.add(key)
    try:
        converter = _CONVERTER_CACHE.get(kind) or _converter(kind)
        if walk.view is not None and converter not in _LEAVES:
            refused = _beyond_view(obj, depth, walk.view)
            if refused is not None:
                return refused
        return converter(obj, depth + 1, walk)
    except Exception as exc:  # a broken property or model_dump must not reach the publisher
        return _marker(obj, f"{type(exc).__name__}: {exc}")
    finally:
        walk.active.discard(key)


def _beyond_view(obj: Any, depth: int, view: int) -> JSONValue | None:
    """The marker for a value a shallow view does not hold (``None``: it holds it): a
    view's attributes may be containers of plain values, nothing deeper and nothing big."""
    if depth > view:
        return _unrecorded(obj, "inside a container inside an object that is not data")
    size = len(obj) if hasattr(obj, "__len__") else 0
    if size > VIEW_ITEMS:
        return _unrecorded(obj, f"{size} items inside an object that is not data")
    return None


Converter = Callable[[Any, int, _Walk], JSONValue]
_CONVERTER_CACHE: dict[type, Converter] = {}


def _converter(cls: type) -> Converter:
    """How to snapshot instances of ``cls``, worked out once per class."""
    found = next((conv for test, conv in _CONVERTERS if test(cls)), None)
    fields = None
    if found is None:
        fields = _structured_fields(cls)
        if fields is not None:
            found = _fields_converter(fields)
        else:
            found = next((conv for test, conv in _OBJECT_CONVERTERS if test(cls)), None)
            found = found or _object_converter(_slot_names(cls))
    if len(_CONVERTER_CACHE) < _CACHE_SIZE:
        _CONVERTER_CACHE[cls] = found
        shortcuts = None if fields is None else _flat_fields_function(cls, fields)
        if shortcuts is not None:
            _FLAT_FIELDS[cls], _PACKERS[cls] = shortcuts
        if fields is not None and _fast_fields(cls, fields):
            _FIELD_NAMES[cls] = fields
    return found


_WSGI_KEY = "wsgi.version"
"""The key every WSGI environ holds (PEP 3333): a mapping holding it is never recorded."""
_WSGI_BYTES = _WSGI_KEY.encode()


def _is_flat(obj: Mapping[Any, Any]) -> bool:
    """Whether a mapping holds text keys and plain values only (the usual event), and is
    not a WSGI environ (which may hold only text, as a hand-made one or a server writing its
    version as text does: it is marked, whatever its values)."""
    if _WSGI_KEY in obj:
        return False
    for key, value in obj.items():
        kind = type(value)
        if type(key) is not str or kind not in _FLAT or (kind is float and value - value != 0):
            return False
    return True


_FLAT = _ATOMS | {float}


def _dict(obj: Mapping[Any, Any], depth: int, walk: _Walk) -> JSONValue:
    if type(obj) is dict:  # copied in one step: another thread changing it cannot break the loop
        obj = obj.copy()
        if _is_flat(obj) and not walk.redaction.hides_any(obj):
            return obj
    elif _is_flat(obj) and not walk.redaction.hides_any(obj):
        return dict(obj)
    if _WSGI_KEY in obj:
        return _unrecorded(obj, "a WSGI environ")
    hides = walk.redaction.hides
    out = {}
    for key, value in obj.items():
        if type(key) is not str:
            key = _key(key)  # the text recorded is the one judged
        kind = type(value)
        if hides(key) and value is not None:
            value = REDACTED
        elif kind in _ATOMS:
            pass
        elif kind is float:
            value = value if value - value == 0 else _float_tag(value)
        else:
            value = _convert(value, depth, walk)
        out[key] = value
    return out


def _key(key: object) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if key is None or isinstance(key, bool):
        return "null" if key is None else str(key).lower()  # as json.dumps writes them
    return str(key)


def _sequence(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    if type(obj) is list:  # copied in one step: one state of it, if another thread changes it
        obj = obj.copy()
    return [v if type(v) in _ATOMS else _convert(v, depth, walk) for v in obj]


def _unordered(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    if type(obj) is set:  # copied in one step, or another thread could break the sort
        obj = obj.copy()
    return _sequence(sorted(obj, key=_sort_key), depth, walk)


def _named_tuple(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    return _dict(obj._asdict(), depth, walk)


def _enum(obj: enum.Enum, depth: int, walk: _Walk) -> JSONValue:
    return _convert(obj.value, depth, walk)


def _number(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    if isinstance(obj, numbers.Integral):
        return int(obj)
    value = float(obj)
    return value if value - value == 0 else _float_tag(value)


def _text(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    return str.__str__(obj)


def _iso(obj: date | time, depth: int, walk: _Walk) -> JSONValue:
    return obj.isoformat()


def _seconds(obj: timedelta, depth: int, walk: _Walk) -> JSONValue:
    return obj.total_seconds()


def _as_str(obj: object, depth: int, walk: _Walk) -> JSONValue:
    return str(obj)


def _binary(obj: bytes | bytearray | memoryview, depth: int, walk: _Walk) -> JSONValue:
    return {BYTES_TAG: base64.b64encode(bytes(obj)).decode("ascii")}


def _pydantic(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    # Python mode keeps bytes, datetimes and non-finite floats for our own faithful tagging.
    return _convert(obj.model_dump(by_alias=True), depth, walk)


def _exception(obj: BaseException, depth: int, walk: _Walk) -> JSONValue:
    return {
        EXCEPTION_TAG: _qualified(type(obj)),
        "message": _without_noise(str(obj)),
        "args": _sequence(obj.args, depth, walk),
    }


def _environment(obj: object, depth: int, walk: _Walk) -> JSONValue:
    return _unrecorded(obj, "an environment")


def _is_named_tuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_asdict")


def _is_pydantic(cls: type) -> bool:
    return callable(getattr(cls, "model_dump", None)) and hasattr(cls, "model_fields")


def _is_sequence(cls: type) -> bool:
    return issubclass(cls, list | tuple | AbcSequence)


def _opaque(obj: object, depth: int, walk: _Walk) -> JSONValue:
    return _marker(obj, "no known way to convert it")


def _behaviour(obj: object, depth: int, walk: _Walk) -> JSONValue:
    return _marker(obj, "callable (code, not data): never descended into")


_CONVERTERS: tuple[tuple[Callable[[type], bool], Converter], ...] = (
    (lambda c: issubclass(c, enum.Enum), _enum),
    (lambda c: issubclass(c, Decimal | uuid.UUID | PurePath), _as_str),
    (lambda c: issubclass(c, numbers.Real), _number),
    (lambda c: issubclass(c, str), _text),
    (lambda c: issubclass(c, bytes | bytearray | memoryview), _binary),
    (lambda c: issubclass(c, os._Environ), _environment),
    (lambda c: issubclass(c, Mapping), _dict),
    (_is_named_tuple, _named_tuple),
    (_is_sequence, _sequence),
    (lambda c: issubclass(c, AbcSet), _unordered),
    (lambda c: issubclass(c, datetime | date | time), _iso),
    (lambda c: issubclass(c, timedelta), _seconds),
    (_is_pydantic, _pydantic),
    (lambda c: issubclass(c, BaseException), _exception),
    (lambda c: issubclass(c, type | types.FunctionType | types.ModuleType), _opaque),
)
_LEAVES = frozenset((_enum, _as_str, _number, _text, _binary, _iso, _seconds, _opaque))
"""Converters of values a shallow view may hold at any depth (scalars, and markers)."""


def _is_mapping_like(cls: type) -> bool:
    return all(callable(getattr(cls, name, None)) for name in ("keys", "items", "__getitem__"))


def _is_collection(cls: type) -> bool:
    """A container that can be iterated without being used up (an iterator would be)."""
    return (
        callable(getattr(cls, "__iter__", None))
        and callable(getattr(cls, "__len__", None))
        and not callable(getattr(cls, "__next__", None))
    )


def _mapping_like(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    """A mapping that is no ``Mapping`` (werkzeug's ``Headers``): by its items, as a dict
    when its keys are unique, else as ``[key, value]`` pairs."""
    pairs = list(obj.items())
    keys = [k if type(k) is str else _key(k) for k, _ in pairs]
    if len(set(keys)) == len(keys):
        return _dict(dict(zip(keys, (v for _, v in pairs), strict=True)), depth, walk)
    hides = walk.redaction.hides
    return [
        [key, REDACTED if hides(key) and value is not None else _convert(value, depth, walk)]
        for key, (_, value) in zip(keys, pairs, strict=True)
    ]


def _collection(obj: Any, depth: int, walk: _Walk) -> JSONValue:
    return _sequence(list(obj), depth, walk)


_OBJECT_CONVERTERS: tuple[tuple[Callable[[type], bool], Converter], ...] = (
    (lambda c: any("__call__" in vars(k) for k in c.__mro__), _behaviour),
    (_is_mapping_like, _mapping_like),
    (_is_collection, _collection),
)
"""For classes that are not data: how to tell what they hold without walking them."""


def _structured_fields(cls: type) -> tuple[str, ...] | None:
    """Field names of a dataclass or attrs class, in declaration order."""
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    attrs_fields = getattr(cls, "__attrs_attrs__", None)
    if attrs_fields is not None:
        return tuple(a.name for a in attrs_fields)
    return None


def _fields_converter(names: tuple[str, ...]) -> Converter:
    def convert(obj: Any, depth: int, walk: _Walk) -> JSONValue:
        hides = walk.redaction.hides
        out = {}
        for name in names:
            value = getattr(obj, name)
            kind = type(value)
            if hides(name) and value is not None:
                value = REDACTED
            elif kind in _ATOMS:
                pass
            elif kind is float:
                value = value if value - value == 0 else _float_tag(value)
            else:
                value = _convert(value, depth, walk)
            out[name] = value
        return out

    return convert


FlatFields = Callable[[Any], "dict[str, JSONValue] | None"]
_FLAT_FIELDS: dict[type, FlatFields] = {}
"""Per dataclass/attrs class: its fields as a dict when every value is flat, else ``None``."""
_MAX_FLAT_FIELDS = 64

Packed = tuple[Any, ...]
"""A flat event as :func:`pack` keeps it: ``((type name, field names), *values)``."""
Kept = Packed | bytes
"""What :func:`keep` keeps: a packed event, or a dict's snapshot as JSON bytes."""
Packer = Callable[[Any], "Packed | None"]
_PACKERS: dict[type, Packer] = {}


def pack(obj: object, redaction: Redaction = DEFAULT_REDACTION) -> Packed | None:
    """The snapshot of a dict, dataclass or attrs event whose values are all plain, packed
    as ``((type name, keys), *values)``; ``None`` for anything else (take
    :func:`snapshot_unpacked`), a key ``redaction`` hides included. Never raises. A
    recorder keeps millions of these: made only of text and numbers, a packed event is
    dropped by the garbage collector's tracking on its first pass, where a dict would be
    visited again by every later collection."""
    try:
        if type(obj) is dict:
            packed = _pack_dict(obj, redaction)
        else:
            packer = _PACKERS.get(type(obj))
            packed = None if packer is None else packer(obj)
    except Exception:  # e.g. a field never set: the general path marks it
        return None
    # Shapes with keys the default redaction hides are never made; another one looks.
    if packed is not None and redaction is not DEFAULT_REDACTION:
        return None if redaction.hides_any(packed[0][1]) else packed
    return packed


def _pack_dict(obj: dict[Any, Any], redaction: Redaction) -> Packed | None:
    # Copied in one step: keys and values that belong together, even if another thread
    # changes obj meanwhile.
    copy = obj.copy()
    if _WSGI_KEY in copy:  # the walk marks it
        return None
    for key, value in copy.items():
        kind = type(value)
        if type(key) is not str:
            return None
        if kind is float:
            if value - value != 0:  # inf - inf and nan - nan are nan
                return None
        elif kind is not str and kind not in _ATOMS:
            return None
    keys = tuple(copy)
    shape = _DICT_SHAPES.get(keys) or _dict_shape(keys)
    if shape is _UNPACKABLE:
        if redaction is DEFAULT_REDACTION or len(keys) > _MAX_FLAT_FIELDS:
            return None
        shape = (None, keys)  # keys the default hides, kept by this redaction: not shared
    return (shape, *copy.values())


def _dict_shape(keys: tuple[str, ...]) -> Shape:
    """The shape shared by every dict with these keys, so that it is no extra tuple per
    event for the garbage collector to see (:data:`_UNPACKABLE`: keys too long to be worth
    keeping, or keys whose values the default redaction hides)."""
    if len(keys) > _MAX_FLAT_FIELDS or sum(map(len, keys)) > _MAX_SHAPE_TEXT:
        return _UNPACKABLE
    if len(_DICT_SHAPES) >= _CACHE_SIZE:
        _DICT_SHAPES.clear()  # keys made from data (ids, say) must not pin memory for ever
    hidden = DEFAULT_REDACTION.hides_any(keys)
    shape = _DICT_SHAPES[keys] = _UNPACKABLE if hidden else (None, keys)
    return shape


Shape = tuple["str | None", tuple[str, ...]]
_DICT_SHAPES: dict[tuple[str, ...], Shape] = {}
_UNPACKABLE: Shape = (None, ())
_MAX_SHAPE_TEXT = 1024
"""A dict whose keys hold more characters than this is not packed (at most 4 MiB of keys
stay cached)."""


def unpack(packed: Kept) -> tuple[JSONValue, str | None]:
    """The snapshot and type name (``"module:QualName"``) :func:`pack` or :func:`keep`
    packed."""
    if isinstance(packed, bytes):
        return decode(packed), None
    shape = packed[0]
    if type(shape) is bytes:
        return decode(shape, packed[2] if len(packed) > 2 else DEFAULT_REDACTION), packed[1]
    unpacker = _UNPACKERS.get(shape)
    if unpacker is None:  # a dict's keys
        return dict(zip(shape[1], packed[1:], strict=True)), None
    return unpacker(packed), shape[0]


_UNPACKERS: dict[Shape, Callable[[Packed], dict[str, JSONValue]]] = {}


# --------------------------------------------------------------------------- encoded snapshots

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Per dataclass/attrs class the fast encoder may take: its field names."""
_MAX_FAST_NESTING = 30
"""Containers an encoded snapshot may nest (a walk marks what is nested deeper than
:data:`MAX_DEPTH`: a pydantic model or an Enum adds a level, so half of it, with room)."""
_NON_FINITE = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")
"""A MessagePack float64 with every exponent bit set: NaN or an infinity."""
_NESTED = re.compile(rb"[\[{]").search
"""Where a container begins in JSON text (from a position on)."""
_NULL = re.compile(b"null").search
"""Where ``null`` is in JSON text (re finds it in half the time ``in`` takes)."""
_SHORT = 2 * _MAX_FAST_NESTING + 1
"""JSON text this long or shorter cannot nest more containers than that."""


def keep(obj: object, redaction: Redaction = DEFAULT_REDACTION) -> Kept | None:
    """What a recorder keeps of ``obj``: with the ``[fast]`` extra, a dict's snapshot encoded
    by :func:`encode` as bare JSON bytes; a flat data class :func:`pack`-ed; another event's
    snapshot encoded as ``(JSON, type name)``; a redaction other than the default goes along
    as ``(JSON, type name, redaction)``. ``None``: take :func:`snapshot_unpacked`.
    :func:`unpack` gives back exactly what :func:`snapshot` gives. Bytes are no container: a
    kept event costs the garbage collector nothing, where its snapshot as dicts and lists is
    walked by every full collection."""
    kind = type(obj)
    if kind is dict and _DUMPS is not None:
        # The usual event, inline: the calls around one orjson call cost more than the call.
        try:
            # The newline, sliced off, makes a copy of exactly its size: orjson's own buffer,
            # shrunk in place, left holes that cost 2 us per kept event (small dict, measured).
            encoded: bytes = _DUMPS(obj, _shallow, _OPTIONS)[:-1]
        except TypeError:  # orjson.JSONEncodeError is one, raised for whatever _shallow refused
            return pack(obj, redaction)
        # Short and no null: nothing to check. partition() is the cheapest search of a few
        # bytes (timeit: 42 ns, where re and find take 68).
        plain = len(encoded) <= _SHORT and not encoded.partition(b"null")[1]
        if plain or _faithful(obj, encoded):
            # Bare: a dict has no type name, and a tuple would be one more object per event.
            return encoded if redaction is DEFAULT_REDACTION else (encoded, None, redaction)
        return pack(obj, redaction)
    if kind in _FLAT:  # text or a number is its own snapshot: nothing to encode or decode
        return None
    # Generated code packs a flat data class for less than orjson encodes it; pack() inline
    # for the default redaction (its call was an eighth of the time, bench_snapshot).
    packer = _PACKERS.get(kind)
    if packer is not None:  # else pack() has nothing to pack
        if redaction is not DEFAULT_REDACTION:
            packed = pack(obj, redaction)
        else:
            try:
                packed = packer(obj)
            except Exception:  # e.g. a field never set: the general path marks it
                packed = None
        if packed is not None:
            return packed
    fast = encode(obj)
    if fast is None:
        return None
    name = type_name(kind)
    # The default redaction is implied, so the tuple holds no object the collector tracks.
    return (fast, name) if redaction is DEFAULT_REDACTION else (fast, name, redaction)


def encode(obj: object) -> bytes | None:
    """The snapshot of ``obj`` before redaction, as compact JSON, when the fast encoder
    writes exactly what the walk would make; ``None`` otherwise (and without the extra).

    orjson walks the data in C; anything that is not plain JSON data goes to
    :func:`_shallow`, which takes one step of the walk for data classes and scalars and
    refuses the rest. Then what orjson does differently is ruled out: ``null`` may be a
    NaN (:func:`_all_finite` tells), nesting (a walk marks what is too deep), and keys to
    redact, which :func:`decode` finds (a search here would cost more than the encoding)."""
    if _DUMPS is None:
        return None
    try:  # as keep() does for a dict, inline
        encoded: bytes = _DUMPS(obj, _shallow, _OPTIONS)[:-1]
    except TypeError:
        return None
    return encoded if _faithful(obj, encoded) else None


def _faithful(obj: object, encoded: bytes) -> bool:
    """Whether ``encoded``, orjson's text for ``obj``, is exactly what the walk makes: each
    ``null`` in it is a ``None`` (orjson writes a NaN or an infinity as ``null`` too), and it
    does not nest too deep. Text longer than a few containers is read once, into its
    skeleton: scanning the text costs about half of encoding it, and the null search and
    counting both brackets were three scans."""
    if len(encoded) <= _SHORT:  # too short to nest too deep
        return not encoded.partition(b"null")[1] or _nulls_are_nones(obj, encoded, _nones(obj))
    skeleton = encoded.translate(None, _NOT_SKELETON)
    nulls = skeleton.count(b"null")
    # The usual null, one of the dict's own Nones: the text need not be searched again.
    if nulls:
        nones = _nones(obj)  # counted once: a pass over the dict's values
        if nones != nulls and not _nulls_are_nones(obj, encoded, nones):
            return False
    if len(skeleton) <= _MAX_FAST_NESTING:  # no more brackets than that, letters aside
        return True
    return len(skeleton.translate(None, b"nul")) <= _MAX_FAST_NESTING or _shallow_enough(encoded)


_NOT_SKELETON = bytes(set(range(256)) - set(b"[{nul"))
"""What the skeleton of JSON text leaves out: all but where containers begin, and the
letters of ``null`` (kept in order, so each ``null`` in the text is one in the skeleton)."""
_NONES = itertools.repeat(None)
"""``None`` for ever, shared: ``map`` takes one from it per value, and it never runs out."""


def _nones(obj: object) -> int:
    """How many of a dict's values are ``None``, by identity (``==`` may say anything); -1
    for anything else, or a dict another thread changed meanwhile."""
    if type(obj) is not dict:
        return -1
    try:
        return sum(map(operator.is_, obj.values(), _NONES))
    except RuntimeError:
        return -1


def _nulls_are_nones(obj: object, encoded: bytes, nones: int) -> bool:
    """Whether each ``null`` orjson wrote for ``obj`` is a ``None``. When ``obj`` is a dict
    with as many ``None`` values (``nones``: :func:`_nones`) as the text (or its skeleton:
    :func:`_faithful`) holds nulls: each holds at least as many as orjson wrote for Nones
    and NaNs, and those are at least as many as the dict's own Nones, so equal counts leave
    no room for a NaN.
    Otherwise :func:`_all_finite`, which encodes it all once more (bench_snapshot, nested
    dict with a ``None``: twice the time of orjson)."""
    return nones == encoded.count(b"null") or _all_finite(obj)


def decode(encoded: bytes, redaction: Redaction = DEFAULT_REDACTION) -> JSONValue:
    """The snapshot :func:`encode` encoded, redacted: exactly what :func:`snapshot` takes."""
    return _redacted(codec.loads(encoded), encoded, redaction)


def unpack_all(kept: list[Kept]) -> list[tuple[JSONValue, str | None]]:
    """:func:`unpack` of each, the encoded snapshots decoded as JSON arrays of up to
    :data:`_BATCH`: one decoder call for many small events costs half as much as one each."""
    encoded = [e for e in map(_encoded, kept) if e is not None]
    if len(encoded) < 2:
        return [unpack(k) for k in kept]
    values = iter(
        [
            value
            for i in range(0, len(encoded), _BATCH)
            for value in codec.loads(b"[" + b",".join(encoded[i : i + _BATCH]) + b"]")
        ]
    )
    return [_unpacked_from(k, next(values)) if _encoded(k) is not None else unpack(k) for k in kept]


def _encoded(kept: Kept) -> bytes | None:
    """The JSON text of an encoded snapshot (bare, or ``(JSON, type name[, redaction])``)."""
    if isinstance(kept, bytes):
        return kept
    first = kept[0]
    return first if type(first) is bytes else None


def _unpacked_from(kept: Kept, value: JSONValue) -> tuple[JSONValue, str | None]:
    """:func:`unpack` of an encoded snapshot whose JSON text decoded to ``value``."""
    if isinstance(kept, bytes):
        return _redacted(value, kept, DEFAULT_REDACTION), None
    redaction = kept[2] if len(kept) > 2 else DEFAULT_REDACTION
    return _redacted(value, kept[0], redaction), kept[1]


_BATCH = 1024
"""Encoded snapshots decoded at once (the joined text is a copy of theirs)."""


def _redacted(data: JSONValue, encoded: bytes, redaction: Redaction) -> JSONValue:
    """Decoded ``encoded`` with ``redaction`` applied, if it may hide anything there."""
    if type(data) is dict and _NESTED(encoded, 1) is None:  # one flat dict: its keys say it all
        # A verdict per key, cached: cheaper than searching.
        walk = _WSGI_KEY in data or redaction.hides_any(data)
    else:
        walk = redaction.may_hide(encoded) or _WSGI_BYTES in encoded
    return snapshot_unpacked(data, redaction) if walk else data  # plain JSON: it only redacts


def _shallow(obj: Any) -> Any:
    """orjson's ``default``: the one step of :func:`_convert` for data that is not plain JSON
    (the encoder takes the result on from there); ``TypeError`` for anything else."""
    cls = type(obj)
    converter = _CONVERTER_CACHE.get(cls) or _converter(cls)
    names = _FIELD_NAMES.get(cls)
    if names is not None:
        return {name: getattr(obj, name) for name in names}
    if converter is _pydantic:
        return obj.model_dump(by_alias=True)
    if converter is _named_tuple:
        return obj._asdict()
    if converter is _enum:
        return obj.value
    if converter in _SCALARS:
        value = converter(obj, 0, _Walk(NO_REDACTION, 0))
        # A tag ({"__float__": "nan"}) read back would be redacted like any dict by its key.
        if type(value) is not dict:
            return value
    raise TypeError(f"{_qualified(cls)}: the walk takes it")


_SCALARS = frozenset((_as_str, _number, _text, _iso, _seconds))
"""Converters that make text or a number (bytes are always tagged: the walk takes them)."""


def _fast_fields(cls: type, names: tuple[str, ...]) -> bool:
    """Whether the fast encoder may take a dataclass or attrs class: its field names are
    identifiers (a key such as ``wsgi.version`` means something to :func:`decode`), and
    MessagePack (:func:`_all_finite`) encodes every field: msgspec leaves out a dataclass's
    ``init=False`` fields and attrs' private ones."""
    if not all(name.isidentifier() for name in names):
        return False
    if dataclasses.is_dataclass(cls):
        return all(f.init for f in dataclasses.fields(cls))
    return not any(name.startswith("_") for name in names)


def _all_finite(obj: object) -> bool:
    """Whether no float in ``obj`` is NaN or infinite (orjson writes them as ``null``, as it
    writes ``None``); ``False`` when it cannot tell. MessagePack keeps them apart."""
    encode = _MSGPACK
    if encode is None:
        return False
    try:
        return _NON_FINITE.search(encode(obj)) is None
    except Exception:  # whatever msgspec refuses: no answer
        return False


def _shallow_enough(encoded: bytes) -> bool:
    """Whether JSON text nests at most :data:`_MAX_FAST_NESTING` containers (``False``
    also when it cannot tell cheaply)."""
    if encoded.count(b"{") + encoded.count(b"[") <= _MAX_FAST_NESTING:
        return True
    if b"\\" in encoded:  # an escaped quote would hide where a string ends
        return False
    brackets = b"".join(encoded.split(b'"')[::2]).translate(None, _NOT_BRACKETS)
    for _ in range(_MAX_FAST_NESTING):
        brackets = brackets.replace(b"{}", b"").replace(b"[]", b"")  # innermost ones
        if not brackets:
            return True
    return False


_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_DUMPS: Callable[..., bytes] | None = None if orjson is None else orjson.dumps
_OPTIONS = (
    0
    if orjson is None
    else orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_APPEND_NEWLINE
)
_MSGPACK = None if msgspec is None else msgspec.msgpack.Encoder(enc_hook=_shallow).encode


def _flat_fields_function(cls: type, names: tuple[str, ...]) -> tuple[FlatFields, Packer] | None:
    """:func:`_fields_converter` unrolled for the usual event, whose fields are all plain
    values (read as ``obj.<name>``, just as ``getattr`` does), as a dict and as a
    :func:`pack`: generated functions, as :mod:`dataclasses` makes ``__init__``, since a
    loop costs twice as much per event. The names come from the class definition, never
    from data."""
    if not names or len(names) > _MAX_FLAT_FIELDS:
        return None
    if not all(_is_plain_name(n) for n in names) or DEFAULT_REDACTION.hides_any(names):
        return None
    local = [f"v{i}" for i in range(len(names))]
    loads = "; ".join(f"{v} = obj.{n}" for v, n in zip(local, names, strict=True))
    flat = " and ".join(
        f"((t := type({v})) is float and -inf < {v} < inf or t is str or t in atoms)" for v in local
    )
    items = ", ".join(f"{n!r}: {v}" for v, n in zip(local, names, strict=True))
    values = ", ".join(local)
    namespace: dict[str, Any] = {
        "atoms": _ATOMS,
        "float": float,
        "inf": math.inf,
        "str": str,
        "type": type,
        "shape": (type_name(cls), names),
    }
    unpacked = ", ".join(f"{n!r}: packed[{i}]" for i, n in enumerate(names, 1))
    sources = [
        f"def {function}(obj):\n    {loads}\n    if {flat}:\n        return {result}\n"
        for function, result in (("flat_fields", f"{{{items}}}"), ("pack", f"(shape, {values},)"))
    ]
    sources.append(f"def unpack(packed):\n    return {{{unpacked}}}\n")
    for source in sources:
        # Only identifiers checked above go into the source (never data), as in dataclasses.
        exec(compile(source, f"<flat {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    _UNPACKERS.setdefault(namespace["shape"], namespace["unpack"])
    return namespace["flat_fields"], namespace["pack"]


def _is_plain_name(name: str) -> bool:
    """Whether ``obj.<name>`` in generated code reads the attribute called ``name``: Python
    normalizes identifiers in source (NFKC), so ``obj.\ufb01`` would read ``obj.fi``."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
    )


def _object_converter(slots: tuple[str, ...]) -> Converter:
    """An object that is not data: a shallow view of its public instance attributes (from
    ``__dict__`` and ``__slots__``). An object met inside another one's view is a marker."""

    def convert(obj: Any, depth: int, walk: _Walk) -> JSONValue:
        if walk.view is not None:
            return _unrecorded(obj, "an object inside an object that is not data")
        state = getattr(obj, "__dict__", None)
        if not isinstance(state, dict) and not slots:
            return _marker(obj, "no known way to convert it")
        attributes = dict(state or {})
        attributes.update((name, getattr(obj, name)) for name in slots if hasattr(obj, name))
        fields = {k: v for k, v in attributes.items() if not k.startswith("_")}
        if attributes and not fields:  # its state is all private: {} would say it has none
            return _marker(obj, "only private attributes")
        if len(fields) > VIEW_ITEMS:
            return _unrecorded(obj, f"{len(fields)} attributes, too many for a view")
        walk.view = depth
        try:
            return _dict(fields, depth, walk)
        finally:
            walk.view = None

    return convert


def _slot_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return tuple(n for n in dict.fromkeys(names) if n not in ("__dict__", "__weakref__"))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


_NOISE = re.compile(r"(?: at)? 0x[0-9a-fA-F]{4,}|\b0x[0-9a-fA-F]{8,}|(?<=started) \d{6,}")


def _without_noise(text: str) -> str:
    """``text`` without what differs between two runs of one program: memory addresses
    (``<function f at 0x7f...>``) and thread idents (``<Thread(t, started 1402...)>``)."""
    return _NOISE.sub("", text) if "0x" in text or "started " in text else text


def _unrecorded(obj: object, reason: str) -> dict[str, JSONValue]:
    """The marker for a value left out on purpose: without its ``repr``, which may show
    what it holds (a configuration's repr shows its secrets)."""
    return {UNSERIALIZABLE_TAG: _qualified(type(obj)), "reason": f"not recorded: {reason}"}


def _marker(obj: object, reason: str) -> dict[str, JSONValue]:
    try:
        text = repr(obj)
    except Exception:
        text = "<repr failed>"
    return {
        UNSERIALIZABLE_TAG: _qualified(type(obj)),
        "reason": _without_noise(reason),
        "repr": _without_noise(text)[:200],
    }


def _sort_key(value: object) -> tuple[str, str]:
    return (type(value).__name__, _without_noise(repr(value)))


# --------------------------------------------------------------------------- restore


def restore(data: JSONValue) -> Any:
    """A fresh copy of snapshot data with its tags undone (bytes, non-finite floats).

    The copy shares no container with ``data``, so a subscriber that mutates what it
    receives cannot change the recording.
    """
    kind = type(data)
    if kind is dict:
        if len(data) == 1:
            tagged = _untag(data)
            if tagged is not data:
                return tagged
        return {
            k: v if type(v) in _ATOMS or type(v) is float else restore(v) for k, v in data.items()
        }
    if kind is list:
        return [v if type(v) in _ATOMS or type(v) is float else restore(v) for v in data]
    return data


def has_tags(data: JSONValue) -> bool:
    """Whether :func:`restore` would change anything but the identity of the containers."""
    kind = type(data)
    if kind is dict:
        if len(data) == 1 and _untag(data) is not data:
            return True
        values = data.values()
    elif kind is list:
        values = data
    else:
        return False
    return any((type(v) is dict or type(v) is list) and has_tags(v) for v in values)


def _untag(data: dict[str, Any]) -> Any:
    """The value a one-key tag dict stands for, or ``data`` itself when it is no tag."""
    if BYTES_TAG in data and isinstance(data[BYTES_TAG], str):
        try:
            return base64.b64decode(data[BYTES_TAG], validate=True)
        except (binascii.Error, ValueError):
            return data
    if FLOAT_TAG in data and data[FLOAT_TAG] in ("nan", "inf", "-inf"):
        return float(data[FLOAT_TAG])
    return data


# --------------------------------------------------------------------------- rebuild


def import_events_module(name: str) -> types.ModuleType:
    """Import the module that holds the event classes; a clear error if it cannot be."""
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise ImportError(
            f"cannot import events module {name!r} to rebuild typed events: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def find_event_class(module: types.ModuleType, event: RecordedEvent) -> type | None:
    """The class for an event: by its recorded ``event_type``, else by its event name."""
    candidates: list[str] = []
    if event.event_type:
        candidates.append(event.event_type.partition(":")[2])
    candidates.append(event.event_name)
    for qualname in candidates:
        target: object = module
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if isinstance(target, type):
            return target
    return None


def rebuild(event: RecordedEvent, module: types.ModuleType | None) -> Any:
    """The object to publish for a recorded event: typed when its class is found."""
    return Rebuilder(module)(event)


class RebuildWarning(UserWarning):
    """Recorded events of a type were replayed as plain data: their class was not found."""


class Rebuilder:
    """:func:`rebuild` for many events: class look-ups are done once per event type.

    An event's class is looked up by its recorded ``event_type`` in the modules already
    imported (a cassette is data: it never makes anything import), and used only if it is a
    data class (dataclass, attrs, pydantic, NamedTuple, Enum). With ``module`` (the caller's
    opt-in import) that module's classes of any kind are used too, also by event name.
    Events of a type not found are replayed as plain data and counted in :attr:`missed`.
    """

    def __init__(self, module: types.ModuleType | None) -> None:
        self.module = module
        self._classes: dict[tuple[str | None, str], type | None] = {}
        self.missed: dict[str, int] = {}
        """Event types whose events were replayed as plain data, with how many."""
        self.reasons: dict[str, str] = {}
        """Why each of :attr:`missed` was not rebuilt."""

    def __call__(self, event: RecordedEvent) -> Any:
        data = restore(event.event_data)
        cls = self.class_for(event)
        if cls is None:
            if event.event_type is not None:
                self.missed[event.event_type] = self.missed.get(event.event_type, 0) + 1
            return data
        try:
            return build_instance(cls, data)
        except Exception as exc:
            raise EventRebuildError(
                f"event {event.event_name!r} does not fit {cls.__module__}.{cls.__qualname__} "
                f"any more: {type(exc).__name__}: {exc}"
            ) from exc

    def class_for(self, event: RecordedEvent) -> type | None:
        kind = event.event_type
        if self.module is None and kind is None:
            return None
        key = (kind, event.event_name if self.module is not None else "")
        try:
            return self._classes[key]
        except KeyError:
            pass
        cls = None if self.module is None else find_event_class(self.module, event)
        if cls is None and kind is not None:
            cls, reason = imported_data_class(kind)
            if cls is None:
                self.reasons[kind] = reason
        if len(self._classes) < _CACHE_SIZE:
            self._classes[key] = cls
        return cls

    def warnings(self) -> list[str]:
        """One line per event type replayed as plain data."""
        return [
            f"{count} events of type {kind} were replayed as plain data: {self.reasons[kind]}"
            for kind, count in self.missed.items()
        ]


def imported_data_class(event_type: str) -> tuple[type | None, str]:
    """The data class an ``event_type`` (``"module:QualName"``) names, if its module is
    already imported; else ``None`` and why not."""
    module_name, _, qualname = event_type.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        return None, (
            f"module {module_name!r} is not imported "
            f"(import it first, or pass events_module_name={module_name!r})"
        )
    target: object = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    if target is None:
        return None, f"module {module_name!r} has no {qualname!r}"
    if not isinstance(target, type):
        return None, f"{event_type} is not a class"
    if not _is_data_class(target):
        return None, (
            f"{event_type} is not a data class (dataclass, attrs, pydantic, NamedTuple, "
            f"Enum); pass events_module_name={module_name!r} to rebuild it anyway"
        )
    return target, ""


def _is_data_class(cls: type) -> bool:
    return _is_structured(cls) or _is_named_tuple(cls)


def build_instance(cls: type, data: Any) -> Any:
    """An instance of ``cls`` from snapshot data, converting fields by their annotations."""
    validate = getattr(cls, "model_validate", None)
    if callable(validate):
        return validate(data)
    if isinstance(cls, enum.EnumMeta):
        return cls(data)
    if not isinstance(data, dict):
        return cls(data)
    if dataclasses.is_dataclass(cls):
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**_typed_kwargs(cls, data, names))
    attrs_fields = getattr(cls, "__attrs_attrs__", None)
    if attrs_fields is not None:
        return _build_attrs(cls, data, attrs_fields)
    return _build_plain(cls, data)


def _build_attrs(cls: type, data: dict[str, Any], fields: Any) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for a in fields:
        if a.init and a.name in data:
            alias = getattr(a, "alias", None) or a.name.lstrip("_")
            kwargs[alias] = coerce(data[a.name], hints.get(a.name, a.type))
    return cls(**kwargs)


def _build_plain(cls: type, data: dict[str, Any]) -> Any:
    params = _parameters(cls)
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if takes_all or set(data) <= set(params):
        return cls(**_typed_kwargs(cls, data, set(data)))
    # The constructor does not take the recorded attributes: set them as the snapshot saw them.
    obj: Any = object.__new__(cls)
    obj.__dict__.update(_typed_kwargs(cls, data, set(data)))
    return obj


@functools.lru_cache(maxsize=512)
def _parameters(cls: type) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return {}


def _typed_kwargs(cls: type, data: dict[str, Any], names: set[str]) -> dict[str, Any]:
    hints = _hints(cls)
    return {k: coerce(v, hints.get(k)) for k, v in data.items() if k in names}


@functools.lru_cache(maxsize=512)
def _hints(cls: type) -> dict[str, Any]:
    """Field types: the class's annotations, and its ``__init__``'s for plain classes."""
    init = next((vars(k)["__init__"] for k in cls.__mro__[:-1] if "__init__" in vars(k)), None)
    hints = {} if init is None else _resolved_hints(init)
    hints.pop("return", None)
    hints.update(_resolved_hints(cls))
    return hints


def _resolved_hints(target: object) -> dict[str, Any]:
    try:
        return typing.get_type_hints(target)
    except Exception:  # unresolvable forward references: use what is there, unconverted
        return dict(getattr(target, "__annotations__", {}))


def coerce(value: Any, annotation: Any) -> Any:
    """Bring a JSON value back to an annotated type where the snapshot flattened it."""
    if annotation is None or annotation is Any or value is None:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, args)
    if origin is not None:
        return _coerce_generic(value, origin, args)
    if isinstance(annotation, type):
        return _coerce_class(value, annotation)
    return value


def _coerce_union(value: Any, args: tuple[Any, ...]) -> Any:
    """The first member the value already is, else the first that converts it."""
    members = [a for a in args if a is not _NONE]
    for arg in members:
        if isinstance(arg, type) and isinstance(value, arg) and not isinstance(value, dict):
            return value
    for arg in members:
        with contextlib.suppress(Exception):  # this member does not fit; try the next
            converted = coerce(value, arg)
            if converted is not value:
                return converted
    return value


def _coerce_generic(value: Any, origin: Any, args: tuple[Any, ...]) -> Any:
    if origin in (list, set, frozenset) and isinstance(value, list):
        item = args[0] if args else None
        return origin(coerce(v, item) for v in value)
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0]) for v in value)
        return tuple(coerce(v, a) for v, a in zip(value, args or [None] * len(value), strict=False))
    if origin in (dict, Mapping) and isinstance(value, dict):
        item = args[1] if len(args) == 2 else None
        return {k: coerce(v, item) for k, v in value.items()}
    return value


_FROM_TEXT: tuple[tuple[type, Callable[[str], Any]], ...] = (
    (datetime, parse_iso),
    (date, date.fromisoformat),
    (time, time.fromisoformat),
    (Decimal, Decimal),
    (uuid.UUID, uuid.UUID),
)


def _coerce_class(value: Any, cls: type) -> Any:
    if cls is float and type(value) is int:
        return float(value)
    if isinstance(value, cls) and not isinstance(value, dict | list):
        return value
    if isinstance(value, str):
        for base, parse in _FROM_TEXT:
            if issubclass(cls, base):
                return parse(value)
        if issubclass(cls, PurePath):
            return cls(value)
    if issubclass(cls, timedelta) and isinstance(value, int | float):
        return timedelta(seconds=value)
    if cls in (set, frozenset, tuple) and isinstance(value, list):
        return cls(value)
    if _is_structured(cls) and (isinstance(value, dict | list) or isinstance(cls, enum.EnumMeta)):
        return build_instance(cls, value)
    return value


def _is_structured(cls: type) -> bool:
    return (
        isinstance(cls, enum.EnumMeta)
        or dataclasses.is_dataclass(cls)
        or hasattr(cls, "__attrs_attrs__")
        or callable(getattr(cls, "model_validate", None))
    )
