"""YAML cassettes read and written through libyaml, with the values and bytes PyYAML's
pure-Python loader and dumper give (block style, keys in their order, unicode, no aliases).

PyYAML's own C dumper (``CSafeDumper``) still represents and serializes every value in
Python, four Python calls per value, so it bought 2.7x; here the document is walked once and
handed to libyaml as events, each distinct string analysed once (17x). The two emitters
write some strings differently (fuzzed: characters libyaml escapes and Python does not, the
line folding of double-quoted strings, empty and long keys); a document holding one is
written by the Python dumper, as before.

Reading, :data:`SAFE_LOADER` is libyaml's ``CSafeLoader`` building plain values without
PyYAML's per-node constructor machinery (1.7x on top of libyaml's parser).
"""

from __future__ import annotations

import io
import re
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from .cassette import MAX_NESTING

_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)

_CEmitter: Any = getattr(getattr(yaml, "_yaml", None), "CEmitter", None)


def dump(doc: Any) -> str:
    """``doc`` as PyYAML's Python dumper writes it; by libyaml when PyYAML has it and the
    document holds nothing the two emitters write differently."""
    if _CEmitter is not None:
        try:
            return _CWriter().text(doc)
        except _Unmatched:
            pass
    return python_dump(doc)


class _Dumper(yaml.SafeDumper):
    """Block style without anchors: a shared object is written out again, not aliased."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # PyYAML writes U+0085 (NEL) raw but reads it back as a line break; double quotes escape it
    style = '"' if "\x85" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def python_dump(doc: Any) -> str:
    """``doc`` by PyYAML's pure-Python dumper: what every YAML cassette is written as."""
    text: str = yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text


class _Unmatched(Exception):
    """The document holds a value libyaml would write differently: the Python dumper writes it."""


class _CWriter:
    """One document emitted into libyaml event by event, as PyYAML's serializer would."""

    def __init__(self) -> None:
        self.out = io.StringIO()  # it has an encoding: libyaml hands back text
        self.emit = _CEmitter(self.out, allow_unicode=True).emit
        self.resolver = yaml.resolver.Resolver()
        self.strings: dict[str, ScalarEvent] = {}
        self.mapping_start = MappingStartEvent(None, None, True, flow_style=False)
        self.sequence_start = SequenceStartEvent(None, None, True, flow_style=False)

    def text(self, doc: Any) -> str:
        self.emit(StreamStartEvent())
        self.emit(DocumentStartEvent(explicit=False))
        self.node(doc, 0)
        self.emit(DocumentEndEvent(explicit=False))
        self.emit(StreamEndEvent())
        return self.out.getvalue()

    def node(self, value: Any, depth: int) -> None:
        kind = type(value)
        if kind is str:
            self.emit(self.string(value))
        elif kind is dict:
            self.mapping(value, depth + 1)
        elif kind is list:
            self.sequence(value, depth + 1)
        else:
            self.emit(_scalar(value))

    def mapping(self, value: dict[Any, Any], depth: int) -> None:
        if depth > _DEPTH:  # the Python dumper decides how deep it can write
            raise _Unmatched
        self.emit(self.mapping_start)
        for key, item in value.items():
            if type(key) is not str:
                raise _Unmatched
            self.emit(self.key(key))
            self.node(item, depth)
        self.emit(MappingEndEvent())

    def sequence(self, value: list[Any], depth: int) -> None:
        if depth > _DEPTH:
            raise _Unmatched
        self.emit(self.sequence_start)
        for item in value:
            self.node(item, depth)
        self.emit(SequenceEndEvent())

    def key(self, key: str) -> ScalarEvent:
        event = self.string(key)
        # Python writes an empty, multi-line or long key as "? key", long being over 122
        # characters (it counts the implicit "!!str" tag in); libyaml over 128 bytes
        if (
            not key
            or "\n" in key
            or (len(key) > _SHORT_KEY // 3 and len(key.encode()) > _SHORT_KEY)
        ):
            raise _Unmatched
        return event

    def string(self, value: str) -> ScalarEvent:
        event = self.strings.get(value)
        if event is None:
            if _UNMATCHED.search(value):
                raise _Unmatched
            # a string PyYAML would read back as another type (``true``, ``1e3``) is quoted
            tag = self.resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
            plain = tag == _STR
            event = self.strings[value] = ScalarEvent(None, _STR, (plain, True), value)
        return event


def _scalar(value: Any) -> ScalarEvent:
    """A number, bool or null as SafeRepresenter writes it; its text always reads back as
    its own type, so it is written untagged."""
    kind = type(value)
    if kind is float:
        text, tag = _float_text(value), "tag:yaml.org,2002:float"
    elif kind is int:
        text, tag = str(value), "tag:yaml.org,2002:int"
    elif kind is bool:
        text, tag = ("true" if value else "false"), "tag:yaml.org,2002:bool"
    elif value is None:
        text, tag = "null", "tag:yaml.org,2002:null"
    else:
        raise _Unmatched
    return ScalarEvent(None, tag, (True, False), text)


def _float_text(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (_INF, -_INF):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    # repr(1e17) is '1e+17', which YAML 1.1 reads as a string: PyYAML writes '1.0e+17'
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


_INF = float("inf")
_STR = "tag:yaml.org,2002:str"
_DEPTH = MAX_NESTING + 3
_SHORT_KEY = 122  # bytes; a key of up to a third as many characters is shorter (BMP only)
_UNMATCHED = re.compile(
    # characters the two emitters escape differently, or that force double quotes (whose
    # line folding differs): outside the printable BMP, line separators, the byte-order mark;
    # and a space next to a line break
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]|\n | \n"
)


class _Other(Exception):
    """A node the fast constructor leaves to PyYAML's (tags beyond JSON's, merge keys...)."""


class _FastSafeLoader(yaml.CSafeLoader if _CSafeLoader is not None else yaml.SafeLoader):  # type: ignore[misc]
    """``CSafeLoader`` whose mappings, sequences and JSON scalars are built in one walk;
    the first other node hands the whole document to PyYAML's safe constructor. Plain
    scalars are resolved once per distinct text (keys repeat in every event)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.plain_tags: dict[str, str] = {}
        self.built: dict[yaml.Node, Any] = {}  # an alias is the same object, as PyYAML has it

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is not yaml.ScalarNode or not implicit[0]:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        tag = self.plain_tags.get(value)
        if tag is None:
            tag = self.plain_tags[value] = super().resolve(kind, value, implicit)
        return tag

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return self.build(node)
        except _Other:
            self.built.clear()
            return super().construct_document(node)

    def build(self, node: yaml.Node) -> Any:
        if node.__class__ is yaml.ScalarNode:
            if node.tag == _STR:
                return node.value
            construct = _SCALARS.get(node.tag)
            if construct is None:
                raise _Other
            return construct(self, node)
        done = self.built.get(node)
        if done is not None:
            return done
        if node.tag == _MAP:
            return self.build_mapping(node)
        if node.tag != _SEQ:
            raise _Other
        out: list[Any] = []
        self.built[node] = out  # before the items: an alias inside its own anchor is itself
        out.extend([self.build(item) for item in node.value])
        return out

    def build_mapping(self, node: yaml.Node) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        self.built[node] = out
        for key, value in node.value:
            if key.__class__ is not yaml.ScalarNode or key.tag == _MERGE:
                raise _Other
            out[self.build(key)] = self.build(value)
        return out


SAFE_LOADER: Any = _FastSafeLoader if _CSafeLoader is not None else None
"""The C loader reads cassettes with, ``None`` when PyYAML has no libyaml."""
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_SCALARS = {
    "tag:yaml.org,2002:" + name: getattr(yaml.SafeLoader, "construct_yaml_" + name)
    for name in ("int", "float", "bool", "null", "timestamp")
}
