"""Snapshots kept encoded (the ``[fast]`` extra): a recorder keeps a nested event as the
JSON orjson writes for it, and reads back exactly what the walk in :func:`snapshot` makes,
for any event, with the fast encoder or without it (``_DUMPS`` set to ``None``), and with the
extra not installed at all (the module run again with orjson and msgspec blocked)."""

from __future__ import annotations

import dataclasses
import enum
import gc
import json
import math
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import pydantic
import pytest
from core_helpers import ServiceBus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import EventRecorder, serialize
from pytest_eventrecorder.serialize import (
    DEFAULT_REDACTION,
    NO_REDACTION,
    REDACTED,
    Redaction,
    keep,
    snapshot,
    unpack,
)

FAST = serialize._DUMPS is not None
needs_fast = pytest.mark.skipif(not FAST, reason="the [fast] extra (orjson) is not installed")


@dataclasses.dataclass
class Pair:
    a: Any
    b: Any = None


@dataclasses.dataclass
class Derived:
    a: Any
    hidden: Any = dataclasses.field(default=None, init=False)  # msgspec leaves it out


@attrs.define
class APair:
    a: Any
    b: Any = None


@attrs.define
class APrivate:
    a: Any
    _p: Any = None  # msgspec leaves it out


class Model(pydantic.BaseModel):
    a: Any
    b: Any = None


class Point(NamedTuple):
    x: Any
    y: Any


class Color(enum.Enum):
    RED = 1
    PAIR = (1, 2.5)
    NAN = math.nan


class Level(enum.IntEnum):
    LOW = 1


class Ratio(float):
    pass


class Loud(str):
    def __str__(self) -> str:
        return "LOUD"


class EqualsAll(str):
    """Equal to anything, ``None`` included: not to be counted as a ``None``."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


KEYS = st.sampled_from(
    ["a", "id", "note", "password", "apiKey", "x-api-key", "tokenizer", "wsgi.version", "null"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(blacklist_categories=()), max_size=6),
    st.sampled_from(["null", "api", "a\\b", 'q"', "x\n", "{[", "]}", "\ud800"]),
    st.sampled_from(
        [
            Color.RED,
            Color.PAIR,
            Color.NAN,
            Level.LOW,
            Loud("x"),
            Ratio(0.5),
            Ratio(math.nan),
            b"\x00\xff",
            Decimal("1.50"),
            uuid.UUID(int=7),
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        ]
    ),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(KEYS, st.text(max_size=4), st.integers(0, 3), st.sampled_from([Loud("k")]))
    return st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(keys, children, max_size=4),
        st.frozensets(st.integers(0, 5), max_size=3),
        st.builds(Pair, children, children),
        st.builds(Derived, children),
        st.builds(APair, children, children),
        st.builds(APrivate, children, children),
        st.builds(Model, a=children, b=children),
        st.builds(Point, children, children),
    )


EVENTS = st.recursive(SCALARS, _containers, max_leaves=24)
REDACTIONS = st.sampled_from(
    [DEFAULT_REDACTION, NO_REDACTION, Redaction(["note", "id"]), Redaction(["bytes", "float"])]
)


def _text(data: Any) -> str:
    """Snapshot data as text that tells apart what ``==`` does not (1 and 1.0, -0.0 and 0.0)."""
    return json.dumps(data, allow_nan=False)


PAD = "x" * 80
"""Text without a letter of ``null`` or a bracket: makes an event long, its skeleton not."""


def _nested(depth: int) -> Any:
    value: Any = {"leaf": [1.5, None]}
    for _ in range(depth):
        value = [value]
    return value


@given(EVENTS, REDACTIONS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_what_is_kept_reads_back_as_the_snapshot(event: Any, redaction: Redaction) -> None:
    kept = keep(event, redaction)
    if kept is not None:
        assert _text(unpack(kept)[0]) == _text(snapshot(event, redaction))


@given(st.lists(st.tuples(EVENTS, REDACTIONS), max_size=6))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_what_is_kept_reads_back_the_same_one_by_one_and_all_at_once(
    events: list[tuple[Any, Redaction]],
) -> None:
    kept = [k for k in (keep(event, redaction) for event, redaction in events) if k is not None]
    together = serialize.unpack_all(kept)
    assert [(_text(d), t) for d, t in together] == [(_text(d), t) for d, t in map(unpack, kept)]


@needs_fast
def test_many_kept_events_read_back_in_order_across_batches() -> None:
    kept = [keep({"n": n, "tags": [n]}) for n in range(2 * serialize._BATCH + 3)]
    assert all(k is not None and serialize._encoded(k) is not None for k in kept)
    data = [d for d, _ in serialize.unpack_all(kept)]  # type: ignore[arg-type]
    assert data == [{"n": n, "tags": [n]} for n in range(len(kept))]


@given(st.lists(EVENTS, min_size=1, max_size=5), REDACTIONS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_recorded_data_is_the_same_with_the_fast_encoder_and_without(
    events: list[Any], redaction: Redaction
) -> None:
    recorded = {}
    for dumps in (serialize._DUMPS, None):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(serialize, "_DUMPS", dumps)
            bus = ServiceBus()
            with EventRecorder("either way", redaction=redaction) as recorder:
                recorder.start_recording(bus)
                for event in events:
                    bus.publish("E", event)
            recorded[dumps] = [(e.event_type, _text(e.event_data)) for e in recorder.events]
    assert recorded[serialize._DUMPS] == recorded[None]
    assert [text for _, text in recorded[None]] == [_text(snapshot(e, redaction)) for e in events]


@needs_fast
def test_a_recorded_nested_event_is_left_alone_by_the_garbage_collector(
    bus: ServiceBus,
) -> None:
    event = {"order": {"id": 1, "lines": [{"sku": "a", "qty": 2}]}, "note": None}
    with EventRecorder("encoded") as recorder:
        recorder.start_recording(bus)
        bus.publish("OrderPlaced", event)
        gc.collect()
        gc.collect()  # the first untracks the inner tuple, the second the entry holding it
        kept = recorder._events[0]
        assert not gc.is_tracked(kept)  # as dicts and lists: visited by every collection
        assert recorder.events[0].event_data == snapshot(event)


@needs_fast
def test_a_later_mutation_never_reaches_an_encoded_recording(bus: ServiceBus) -> None:
    event = {"order": {"lines": [{"qty": 2}]}, "tags": ["a"]}
    with EventRecorder("mutation") as recorder:
        recorder.start_recording(bus)
        bus.publish("OrderPlaced", event)
        event["order"]["lines"][0]["qty"] = 99  # type: ignore[index]
        event["tags"].append("b")  # type: ignore[attr-defined]
    assert recorder.events[0].event_data == {"order": {"lines": [{"qty": 2}]}, "tags": ["a"]}


@needs_fast
@pytest.mark.parametrize(
    "event",
    [
        {"price": math.nan, "note": None, "lines": [1]},
        {"note": None, "lines": [math.nan]},
        {"note": None, "other": None, "lines": [-math.inf, "null"]},
        {"note": None, "text": "null or nothing", "lines": [1]},
        {"note": EqualsAll("x"), "price": math.nan, "lines": [1]},
        {"a": None, "b": math.nan},
        {"lines": [{"qty": math.inf}], "note": None},
        {"note": None, "pair": Pair([1], -math.inf)},
        {"note": None, "derived": Derived([1])},
        {"n": 2**64, "lines": [1]},
        {"deep": _nested(40)},
        {"deep": _nested(70)},
        {"env": {"wsgi.version": (1, 0), "x": [1]}},
        {"user": {"password": "hunter2", "name": [1]}, "headers": [{"X-Api-Key": "k"}]},
        {"password": None, "lines": [1]},
        {"password": "hunter2", "id": 1},
        {"wsgi.version": "1.0", "a": "b"},
        {"headers": {"wsgi.version": "1.0", "a": "b"}},
        {Level.LOW: [1]},
        {"key": Loud("v"), "lines": [1]},
        {"s": "\ud800", "lines": [1]},
        # Text long enough to be read into its skeleton (brackets and the letters of null):
        {"note": None, "pad": PAD, "lines": [[1, [math.nan]]]},
        {"a": None, "b": None, "pad": PAD, "lines": [[math.inf]]},
        {"note": EqualsAll("x"), "pad": PAD, "lines": [-math.inf]},
        {"a": "n", "b": "u", "c": "ll", "x": None, "pad": PAD, "v": [math.nan]},
        {"pad": PAD, "deep": _nested(29)},
        {"pad": PAD, "deep": _nested(31)},
        {"pad": PAD, "wide": [{"a": [1]} for _ in range(20)]},
    ],
)
def test_whatever_the_fast_encoder_writes_otherwise_reads_back_as_the_walk_made_it(
    event: Any, bus: ServiceBus
) -> None:
    with EventRecorder("guards") as recorder:
        recorder.start_recording(bus)
        bus.publish("E", event)
    assert _text(recorder.events[0].event_data) == _text(snapshot(event))


@needs_fast
@pytest.mark.parametrize(
    "event",
    [
        {"note": None, "pad": PAD, "lines": [{"a": [1]}]},  # the dict's own None
        {"a": "nu", "b": "ll", "note": None, "pad": PAD},  # letters make a null of their own
        {"pad": PAD, "wide": [{"a": [1]} for _ in range(20)]},  # many brackets, shallow
        {"pad": PAD, "deep": _nested(28)},
    ],
)
def test_what_the_walk_would_make_too_is_kept_encoded(event: Any) -> None:
    kept = keep(event)
    assert isinstance(kept, bytes)
    assert _text(unpack(kept)[0]) == _text(snapshot(event))


@needs_fast
@pytest.mark.parametrize("value", [b"\x01", Ratio(math.nan)])
def test_a_tag_is_never_taken_for_a_key_to_redact(value: Any, bus: ServiceBus) -> None:
    event = {"payload": value, "lines": [1]}
    redaction = Redaction(["bytes", "float"])
    with EventRecorder("tags", redaction=redaction) as recorder:
        recorder.start_recording(bus)
        bus.publish("E", event)
    assert _text(recorder.events[0].event_data) == _text(snapshot(event, redaction))


@needs_fast
def test_the_redaction_in_force_at_publish_is_the_one_applied(bus: ServiceBus) -> None:
    event = {"note": "x", "user": {"password": "p", "lines": [1]}}
    with EventRecorder("redaction", redaction=Redaction(["note"])) as recorder:
        recorder.start_recording(bus)
        bus.publish("E", event)
        recorder.redaction = NO_REDACTION  # events published before keep theirs
        bus.publish("E", event)
    first, second = (e.event_data for e in recorder.events)
    assert first == {"note": REDACTED, "user": {"password": "p", "lines": [1]}}
    assert second == event


@pytest.mark.parametrize("event", ["text", 5, 1.5, math.nan, None, True])
def test_text_and_numbers_are_kept_as_they_are(event: Any) -> None:
    assert keep(event) is None  # the recorder keeps snapshot_unpacked(event): no decoding


def test_a_redaction_may_hide_only_text_that_holds_one_of_its_words() -> None:
    assert DEFAULT_REDACTION.may_hide(b'{"X-API-Key":1}')
    assert DEFAULT_REDACTION.may_hide(b'{"db_PASSWORD":1}')
    assert not DEFAULT_REDACTION.may_hide(b'{"order_id":1,"lines":[{"sku":"a"}]}')
    assert not NO_REDACTION.may_hide(b'{"password":1}')


@needs_fast
def test_this_module_passes_with_the_extra_not_installed() -> None:
    blocked = "import sys; sys.modules['orjson'] = sys.modules['msgspec'] = None; "
    code = "import pytest; sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', sys.argv[1]]))"
    done = subprocess.run(
        [sys.executable, "-c", blocked + code, __file__],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
    assert " skipped" in done.stdout  # the tests of encoded snapshots: nothing is encoded


WSGI_VERSIONS = [(1, 0), [1, 0], (1, 1), "1.0", None, 1]


@pytest.mark.parametrize("version", WSGI_VERSIONS, ids=repr)
@pytest.mark.parametrize("nested", [False, True], ids=["top", "nested"])
@pytest.mark.parametrize("fast", [True, False], ids=["orjson", "walk"])
def test_a_wsgi_environ_is_marked_whatever_its_version_is(
    version: Any, nested: bool, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand-made environ, or a server's that writes its version as text, is still an
    environ: its headers are never recorded, by any of the recorder's paths."""
    if not fast:
        monkeypatch.setattr(serialize, "_DUMPS", None)
    environ = {"wsgi.version": version, "HTTP_X_USER": "ann-s3cr3t", "PATH_INFO": "/"}
    event = {"environ": environ, "n": 1} if nested else environ
    bus = ServiceBus()
    with EventRecorder("environ") as recorder:
        recorder.start_recording(bus)
        bus.publish("E", event)
    recorded = recorder.events[0].event_data
    marked = recorded["environ"] if nested else recorded
    assert marked == {
        "__unserializable__": "builtins.dict",
        "reason": "not recorded: a WSGI environ",
    }
    assert "s3cr3t" not in _text(recorded)
    assert "s3cr3t" not in _text(snapshot(event))
