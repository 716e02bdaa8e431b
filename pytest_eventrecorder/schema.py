"""Schemas of recorded traffic: infer one per event name, check recordings against it, and
report drift between two.

Inference walks every event once, in bounded memory per field, and describes each event
name's ``event_data`` as a JSON Schema: the types seen (``integer`` widens to ``number`` when
both occur), which object keys every event had (``required``) and which only some had,
``format`` for text that was always a date-time (as ``datetime.isoformat`` writes it), a date
or a UUID, an ``enum`` for text drawn from a small closed set (at most :data:`MAX_ENUM`
values, each seen several times on average), and the range of numbers seen
(:data:`RANGE_KEY`, an annotation that checking does not enforce).

Documents come in two forms: AsyncAPI 3.0 (a channel per event name, listing the sources
that published it, its message payload being the schema) and plain JSON Schema (one schema
that a recorded event as a whole must match, with a ``$defs`` entry per event name).
Checking needs the ``jsonschema`` package (``pytest-eventrecorder[schema]``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .cassette import JSONValue, RecordedEvent

MAX_ENUM = 8
"""An enum is inferred for text with at most this many distinct values..."""
ENUM_MIN_REPEATS = 3
"""... each seen at least this many times on average."""
MAX_PROPERTIES = 256
"""Past this many distinct keys an object is a map: further keys share one schema."""
ASYNCAPI_VERSION = "3.0.0"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SOURCES_KEY = "x-eventrecorder-sources"
COUNT_KEY = "x-eventrecorder-events"
RANGE_KEY = "x-eventrecorder-range"
"""Numbers get the range seen as an annotation, not a constraint: one day's prices are no
contract for the next. Rename it to ``minimum``/``maximum`` to enforce it."""
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SchemaError(ValueError):
    """A schema document that cannot be read, or a check that cannot run."""


# --------------------------------------------------------------------------- inference


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def text_formats(value: str) -> set[str]:
    """The formats a text value satisfies: the same tests checking applies."""
    return {name for name, test in _FORMAT_TESTS.items() if test(value)}


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass
class Shape:
    """What was seen at one place of the data: counts, types and per-type details."""

    seen: int = 0
    types: set[str] = field(default_factory=set)
    formats: set[str] | None = None
    texts: dict[str, int] | None = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    objects: int = 0
    properties: dict[str, Shape] = field(default_factory=dict)
    other: Shape | None = None
    items: Shape | None = None

    def add(self, value: JSONValue) -> None:
        """Take one more value into account (iteratively, so deep data cannot recurse)."""
        pending: list[tuple[Shape, JSONValue]] = [(self, value)]
        while pending:
            shape, item = pending.pop()
            pending.extend(shape._take(item))

    def _take(self, value: JSONValue) -> Iterator[tuple[Shape, JSONValue]]:
        self.seen += 1
        kind = _json_type(value)
        self.types.add(kind)
        if kind == "string":
            self._text(value)
        elif kind in ("integer", "number"):
            self._number(value)
        elif kind == "object":
            self.objects += 1
            for key, item in value.items():
                yield self._property(key), item
        elif kind == "array":
            self.items = self.items or Shape()
            for item in value:
                yield self.items, item

    def _property(self, key: str) -> Shape:
        shape = self.properties.get(key)
        if shape is None and len(self.properties) < MAX_PROPERTIES:
            shape = self.properties[key] = Shape()
        elif shape is None:  # keys drawn from data (ids, symbols): memory stays bounded
            shape = self.other = self.other or Shape()
        return shape

    def _text(self, value: str) -> None:
        formats = text_formats(value)
        self.formats = formats if self.formats is None else self.formats & formats
        if self.texts is not None:
            self.texts[value] = self.texts.get(value, 0) + 1
            if len(self.texts) > MAX_ENUM:
                self.texts = None  # an open set: stop counting, memory stays bounded

    def _number(self, value: float) -> None:
        self.minimum = value if self.minimum is None else min(self.minimum, value)
        self.maximum = value if self.maximum is None else max(self.maximum, value)


@dataclass
class Channel:
    """One event name's traffic: how many events, from which sources, with what data."""

    name: str
    count: int = 0
    sources: dict[str, None] = field(default_factory=dict)
    data: Shape = field(default_factory=Shape)


def infer(events: Iterable[RecordedEvent]) -> dict[str, Channel]:
    """Every event name seen, in order of first appearance, with the shape of its data."""
    channels: dict[str, Channel] = {}
    for event in events:
        channel = channels.get(event.event_name)
        if channel is None:
            channel = channels[event.event_name] = Channel(event.event_name)
        channel.count += 1
        if event.source is not None:
            channel.sources[event.source] = None
        channel.data.add(event.event_data)
    return channels


def to_schema(shape: Shape) -> dict[str, Any]:
    """The JSON Schema describing every value the shape saw (``{}``, anything, if none)."""
    if not shape.types:
        return {}  # the items of lists that were always empty
    types = sorted(shape.types - {"integer"} if "number" in shape.types else shape.types)
    schema: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if "string" in types:
        schema.update(_text_schema(shape))
    if "number" in types or "integer" in types:
        schema[RANGE_KEY] = {"minimum": shape.minimum, "maximum": shape.maximum}
    if "object" in types:
        schema["properties"] = {k: to_schema(v) for k, v in shape.properties.items()}
        required = [k for k, v in shape.properties.items() if v.seen == shape.objects]
        if required:
            schema["required"] = required
        if shape.other is not None:
            schema["additionalProperties"] = to_schema(shape.other)
    if "array" in types and shape.items is not None:
        schema["items"] = to_schema(shape.items)
    return schema


def _text_schema(shape: Shape) -> dict[str, Any]:
    if shape.formats:
        return {"format": sorted(shape.formats)[0]}
    texts = shape.texts
    if texts and len(texts) * ENUM_MIN_REPEATS <= sum(texts.values()) and _only_text(shape):
        return {"enum": [*sorted(texts), *([None] if "null" in shape.types else [])]}
    return {}


def _only_text(shape: Shape) -> bool:
    return shape.types <= {"string", "null"}


# --------------------------------------------------------------------------- documents


def asyncapi_document(channels: Mapping[str, Channel], title: str) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: a channel, a send operation and a message per event name."""
    ids = _ids(channels)
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": title, "version": "1.0.0"},
        "channels": {},
        "operations": {},
        "components": {"messages": {}},
    }
    for name, channel in channels.items():
        key = ids[name]
        doc["channels"][key] = {
            "address": name,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            SOURCES_KEY: list(channel.sources),
            COUNT_KEY: channel.count,
        }
        doc["operations"][f"publish.{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
        payload = to_schema(channel.data)
        doc["components"]["messages"][key] = {"name": name, "payload": payload}
    return doc


def json_schema_document(channels: Mapping[str, Channel], title: str) -> dict[str, Any]:
    """One JSON Schema that a recorded event must match, with a ``$defs`` entry per name."""
    ids = _ids(channels)
    defs = {ids[name]: {"title": name, **to_schema(c.data)} for name, c in channels.items()}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": title,
        "type": "object",
        "required": ["event_name", "event_data"],
        "oneOf": [
            {
                "properties": {
                    "event_name": {"const": name},
                    "event_data": {"$ref": f"#/$defs/{ids[name]}"},
                }
            }
            for name in channels
        ],
        "$defs": defs,
    }


def _ids(channels: Iterable[str]) -> dict[str, str]:
    """Component keys AsyncAPI accepts (``[A-Za-z0-9._-]``), unique per event name."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in channels:
        base = _ID_UNSAFE.sub("_", name).strip("_") or "event"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        taken.add(key)
        ids[name] = key
    return ids


def payloads(doc: object) -> dict[str, dict[str, Any]]:
    """Event name -> schema of its ``event_data``, from either form of document."""
    if not isinstance(doc, dict):
        raise SchemaError("a schema document must be a mapping at the top")
    if "asyncapi" in doc:
        return _asyncapi_payloads(doc)
    if "$defs" in doc and "oneOf" in doc:
        return _json_schema_payloads(doc)
    raise SchemaError("not an AsyncAPI document nor a JSON Schema written by this tool")


def _asyncapi_payloads(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for key, channel in _mapping(doc, "channels").items():
        address = channel.get("address", key) if isinstance(channel, dict) else key
        messages = channel.get("messages", {}) if isinstance(channel, dict) else {}
        for message in messages.values():
            resolved = _resolve(doc, message)
            if isinstance(resolved, dict) and isinstance(resolved.get("payload"), dict):
                found[str(address)] = _resolve(doc, resolved["payload"])
    return found


def _json_schema_payloads(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for branch in doc["oneOf"]:
        props = branch.get("properties", {}) if isinstance(branch, dict) else {}
        name = props.get("event_name", {}).get("const")
        if isinstance(name, str):
            found[name] = _resolve(doc, props.get("event_data", {}))
    return found


def _mapping(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise SchemaError(f"'{key}' must be a mapping")
    return value


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` pointers (``#/a/b``), as this tool writes them."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref, seen = node["$ref"], seen + 1
        if not ref.startswith("#/") or seen > 32:
            raise SchemaError(f"cannot follow $ref {ref!r}: only local references are read")
        node = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise SchemaError(f"$ref {ref!r} points at nothing")
            node = node[part]
    return node


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Violation:
    """One way a recorded event does not match the schema."""

    index: int
    event_name: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"event #{self.index} {self.event_name!r}: {self.path}: {self.message}"


def check(doc: object, events: Iterable[RecordedEvent]) -> Iterator[Violation]:
    """Every violation, in event order: an event name the schema lacks, or data that does
    not match its payload schema (each failing field, with what was expected)."""
    validators = _validators(payloads(doc))
    for index, event in enumerate(events):
        validator = validators.get(event.event_name)
        if validator is None:
            yield Violation(index, event.event_name, "event_name", "no schema for this name")
            continue
        for error in sorted(validator.iter_errors(event.event_data), key=_error_key):
            yield Violation(index, event.event_name, _path(error.absolute_path), error.message)


def _validators(schemas: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    try:
        import jsonschema
    except ImportError:
        raise SchemaError(
            "checking against a schema needs the jsonschema package: "
            "pip install 'pytest-eventrecorder[schema]'"
        ) from None
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(_datetime_format)
    checker.checks("date")(_date_format)
    checker.checks("uuid")(_uuid_format)
    cls = jsonschema.Draft202012Validator
    out = {}
    for name, schema in schemas.items():
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise SchemaError(f"the schema for {name!r} is not valid: {exc.message}") from None
        out[name] = cls(schema, format_checker=checker)
    return out


def _datetime_format(value: object) -> bool:
    return not isinstance(value, str) or ("T" in value and _is_datetime(value))


def _date_format(value: object) -> bool:
    return not isinstance(value, str) or (bool(_DATE.match(value)) and _is_date(value))


def _uuid_format(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return bool(_UUID.match(value))


_FORMAT_TESTS = {"date-time": _datetime_format, "date": _date_format, "uuid": _uuid_format}


def _error_key(error: Any) -> tuple[str, str]:
    return _path(error.absolute_path), str(error.message)


def _path(parts: Iterable[object]) -> str:
    return ".".join(["event_data", *(str(p) for p in parts)])


# --------------------------------------------------------------------------- drift


def drift(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What changed from ``old`` to ``new``, one line each: event names added or removed,
    and per name the fields added, removed, retyped, or made required or optional."""
    lines = [f"+ {name}: new event name" for name in new if name not in old]
    lines += [f"- {name}: event name no longer seen" for name in old if name not in new]
    for name in (n for n in old if n in new):
        lines += [f"~ {name}: {line}" for line in _field_drift(old[name], new[name])]
    return lines


def _field_drift(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    pending: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = [("event_data", old, new)]
    while pending:
        path, a, b = pending.pop(0)
        if _types(a) != _types(b):
            yield f"{path}: type {_shown_types(a)} -> {_shown_types(b)}"
        if a.get("format") != b.get("format"):
            yield f"{path}: format {a.get('format')} -> {b.get('format')}"
        if a.get("enum") and b.get("enum") and a["enum"] != b["enum"]:
            yield f"{path}: values {a['enum']} -> {b['enum']}"
        yield from _property_drift(path, a, b, pending)
        if isinstance(a.get("items"), dict) and isinstance(b.get("items"), dict):
            pending.append((f"{path}.*", a["items"], b["items"]))


def _property_drift(
    path: str,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    pending: list[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
) -> Iterator[str]:
    props_a, props_b = a.get("properties") or {}, b.get("properties") or {}
    req_a, req_b = set(a.get("required") or ()), set(b.get("required") or ())
    for key in props_b:
        if key not in props_a:
            kind = "required" if key in req_b else "optional"
            yield f"{path}.{key}: added ({_shown_types(props_b[key])}, {kind})"
    for key in props_a:
        if key not in props_b:
            yield f"{path}.{key}: removed"
            continue
        if (key in req_a) != (key in req_b):
            yield f"{path}.{key}: " + ("now optional" if key in req_a else "now required")
        pending.append((f"{path}.{key}", props_a[key], props_b[key]))


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def _shown_types(schema: Mapping[str, Any]) -> str:
    return "|".join(sorted(_types(schema))) or "any"
