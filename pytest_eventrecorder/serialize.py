"""Turning event objects into JSON-safe snapshots, and snapshots back into typed events.

A snapshot is taken at publish time and shares nothing with the published object, so a
later mutation of the event cannot rewrite the recording. Values that have no faithful JSON
form are tagged (``{"__bytes__": ...}``) or, if they cannot be converted at all, replaced
by an ``{"__unserializable__": ...}`` marker: snapshotting never raises into the publisher.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import importlib
import inspect
import math
import types
import typing
import uuid
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from .cassette import JSONValue, RecordedEvent

BYTES_TAG = "__bytes__"
FLOAT_TAG = "__float__"
UNSERIALIZABLE_TAG = "__unserializable__"
MAX_DEPTH = 64

_PRIMITIVES = (str, int, bool, type(None))
_PLAIN_CONTAINERS = (dict, list, tuple, set, frozenset, str, bytes, int, float, bool, type(None))


class EventRebuildError(ValueError):
    """A recorded event's class was found but the recorded data no longer fits it."""


# --------------------------------------------------------------------------- snapshot


def snapshot(obj: object) -> JSONValue:
    """A deep, JSON-safe copy of ``obj``; never raises."""
    return _Snapshotter().convert(obj, 0)


def event_type_of(obj: object) -> str | None:
    """``"module:QualName"`` of a typed event, ``None`` for plain data."""
    cls = type(obj)
    if isinstance(obj, _PLAIN_CONTAINERS) or cls.__module__ == "builtins":
        return None
    return f"{cls.__module__}:{cls.__qualname__}"


class _Snapshotter:
    def __init__(self) -> None:
        self._active: set[int] = set()

    def convert(self, obj: object, depth: int) -> JSONValue:
        if isinstance(obj, _PRIMITIVES):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {FLOAT_TAG: repr(obj)}
        if depth > MAX_DEPTH:
            return _marker(obj, f"nested deeper than {MAX_DEPTH} levels")
        if id(obj) in self._active:
            return _marker(obj, "refers back to itself")
        self._active.add(id(obj))
        try:
            return self._convert_compound(obj, depth + 1)
        except Exception as exc:  # a broken __repr__/model_dump must not reach the publisher
            return _marker(obj, f"{type(exc).__name__}: {exc}")
        finally:
            self._active.discard(id(obj))

    def _convert_compound(self, obj: object, depth: int) -> JSONValue:
        scalar = _scalar(obj)
        if scalar is not _NO_SCALAR:
            return scalar
        if isinstance(obj, Mapping):
            return {str(k): self.convert(v, depth) for k, v in obj.items()}
        if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
            return self.convert(obj._asdict(), depth)
        if isinstance(obj, list | tuple):
            return [self.convert(v, depth) for v in obj]
        if isinstance(obj, set | frozenset):
            return [self.convert(v, depth) for v in sorted(obj, key=_sort_key)]
        fields = _fields_of(obj)
        if fields is None:
            return _marker(obj, "no known way to convert it")
        return {k: self.convert(v, depth) for k, v in fields.items()}


_NO_SCALAR = object()


def _scalar(obj: object) -> object:
    if isinstance(obj, enum.Enum):
        return snapshot(obj.value)
    if isinstance(obj, datetime | date | time):
        return obj.isoformat()
    if isinstance(obj, timedelta):
        return obj.total_seconds()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, uuid.UUID | PurePath):
        return str(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return {BYTES_TAG: base64.b64encode(bytes(obj)).decode("ascii")}
    return _NO_SCALAR


def _fields_of(obj: object) -> dict[str, object] | None:
    """The named fields of a structured object (pydantic, dataclass, attrs, plain)."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        dumped = dump(mode="json")
        return dumped if isinstance(dumped, dict) else {"value": dumped}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    attrs_fields = getattr(type(obj), "__attrs_attrs__", None)
    if attrs_fields is not None:
        return {a.name: getattr(obj, a.name) for a in attrs_fields}
    if isinstance(obj, type | types.FunctionType | types.ModuleType):
        return None
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict) and state:
        return {k: v for k, v in state.items() if not k.startswith("_")}
    slots = _slot_names(type(obj))
    if slots:
        return {s: getattr(obj, s) for s in slots if hasattr(obj, s) and not s.startswith("_")}
    return None


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return [n for n in names if n not in ("__dict__", "__weakref__")]


def _marker(obj: object, reason: str) -> dict[str, JSONValue]:
    try:
        text = repr(obj)
    except Exception:
        text = "<repr failed>"
    return {
        UNSERIALIZABLE_TAG: f"{type(obj).__module__}.{type(obj).__qualname__}",
        "reason": reason,
        "repr": text[:200],
    }


def _sort_key(value: object) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


# --------------------------------------------------------------------------- restore


def restore(data: JSONValue) -> Any:
    """Undo the tags a snapshot added (bytes, non-finite floats); everything else as is."""
    if isinstance(data, dict):
        if len(data) == 1:
            if BYTES_TAG in data and isinstance(data[BYTES_TAG], str):
                try:
                    return base64.b64decode(data[BYTES_TAG], validate=True)
                except (binascii.Error, ValueError):
                    return data
            if FLOAT_TAG in data and data[FLOAT_TAG] in ("nan", "inf", "-inf"):
                return float(data[FLOAT_TAG])
        return {k: restore(v) for k, v in data.items()}
    if isinstance(data, list):
        return [restore(v) for v in data]
    return data


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
    data = restore(event.event_data)
    cls = find_event_class(module, event) if module is not None else None
    if cls is None:
        return data
    try:
        return build_instance(cls, data)
    except Exception as exc:
        raise EventRebuildError(
            f"event {event.event_name!r} does not fit {cls.__module__}.{cls.__qualname__} "
            f"any more: {type(exc).__name__}: {exc}"
        ) from exc


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
        return cls(**_typed_kwargs(cls, data, {f.name for f in dataclasses.fields(cls) if f.init}))
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
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        params = {}
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if takes_all or set(data) <= set(params):
        return cls(**_typed_kwargs(cls, data, set(data)))
    obj = cls.__new__(cls)
    obj.__dict__.update(data)
    return obj


def _typed_kwargs(cls: type, data: dict[str, Any], names: set[str]) -> dict[str, Any]:
    hints = _hints(cls)
    return {k: coerce(v, hints.get(k)) for k, v in data.items() if k in names}


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:
        return dict(getattr(cls, "__annotations__", {}))


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
    for arg in args:
        if arg is type(None):
            continue
        try:
            return coerce(value, arg)
        except Exception:  # try the next member of the union
            continue
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
    if origin is typing.Literal:
        return value
    return value


_FROM_TEXT: dict[type, Any] = {
    datetime: datetime.fromisoformat,
    date: date.fromisoformat,
    time: time.fromisoformat,
    Decimal: Decimal,
    uuid.UUID: uuid.UUID,
}


def _coerce_class(value: Any, cls: type) -> Any:
    if cls is float and isinstance(value, int | dict):
        return float(restore(value))
    if isinstance(value, cls) and not isinstance(value, dict):
        return value
    for base, parse in _FROM_TEXT.items():
        if issubclass(cls, base) and isinstance(value, str):
            return _parse_datetime(value) if base is datetime else parse(value)
    if issubclass(cls, timedelta) and isinstance(value, int | float):
        return timedelta(seconds=value)
    if issubclass(cls, bytes) and isinstance(value, dict | bytes):
        return restore(value)
    if cls in (set, frozenset, tuple) and isinstance(value, list):
        return cls(value)
    if issubclass(cls, PurePath) and isinstance(value, str):
        return cls(value)
    if isinstance(value, dict | list) or isinstance(cls, enum.EnumMeta):
        structured = (
            isinstance(cls, enum.EnumMeta)
            or dataclasses.is_dataclass(cls)
            or hasattr(cls, "__attrs_attrs__")
            or callable(getattr(cls, "model_validate", None))
        )
        if structured:
            return build_instance(cls, value)
    return value


def _parse_datetime(text: str) -> datetime:
    # fromisoformat only learnt the trailing "Z" in Python 3.11
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
