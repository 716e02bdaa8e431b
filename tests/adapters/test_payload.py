"""Payload bytes <-> event data: readable when possible, and always the same bytes back."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters.base import redaction_of
from pytest_eventrecorder.adapters.payload import (
    JSON_STYLE_KEY,
    RAW_KEY,
    describe_payload,
    encode_payload,
    payload_bytes,
)
from pytest_eventrecorder.formats import write_cassette
from pytest_eventrecorder.serialize import (
    DEFAULT_REDACT_KEYS,
    DEFAULT_REDACTION,
    NO_REDACTION,
    REDACTED,
    Redaction,
    restore,
    snapshot,
)


def recorded(raw: bytes) -> RecordedEvent:
    data, metadata = describe_payload(raw)
    return RecordedEvent(0.0, "chan", data, None, None, metadata or None)


@pytest.mark.parametrize(
    ("raw", "data", "kept_raw"),
    [
        (b'{"a":1}', {"a": 1}, False),
        (b'{"a": 1}', {"a": 1}, False),  # Python's json.dumps layout: no copy needed
        (b'{"a":  1}', {"a": 1}, True),
        (b"[1,2.5,null,true]", [1, 2.5, None, True], False),
        (b"42", 42, False),
        (b'"quoted"', "quoted", False),  # JSON text: sent back with its quotes
        ('"\u00e9t\u00e9"'.encode(), "été", False),  # json.dumps' ASCII escapes
        ('{"k":"été"}'.encode(), {"k": "été"}, False),
        (b"plain text", "plain text", False),
        ("żółw".encode(), "żółw", False),
        (b"", "", False),
        (b"\xff\x00", {"__bytes__": "/wA="}, False),
        (b"NaN", "NaN", False),  # not JSON: kept as text
        (b"1e999", "1e999", False),  # JSON Python would read as inf: kept as text
        (b'"\\ud800"', '"\\ud800"', False),  # a lone surrogate no file can hold as data
        (b'{"__bytes__":"aGk="}', {"__bytes__": "aGk="}, False),  # looks tagged; is JSON
        (b'{"b": 2,\n "a": 1}', {"b": 2, "a": 1}, True),
    ],
)
def test_payloads_become_readable_data(raw: bytes, data: object, kept_raw: bool) -> None:
    event = recorded(raw)
    assert event.event_data == data
    assert (RAW_KEY in (event.metadata or {})) is kept_raw
    assert payload_bytes(event, restore(event.event_data)) == raw


@given(st.binary(max_size=64) | st.text(max_size=32).map(str.encode))
def test_any_payload_replays_byte_for_byte(raw: bytes) -> None:
    event = recorded(raw)
    assert payload_bytes(event, restore(event.event_data)) == raw


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_json_payloads_survive_a_cassette_file(value: object) -> None:
    for raw, copied in (
        (json.dumps(value, indent=1).encode(), True),
        (json.dumps(value).encode(), False),
    ):
        event = recorded(raw)
        assert event.event_data == value
        assert payload_bytes(event, restore(event.event_data)) == raw
        if not isinstance(value, list | dict) or not value:
            continue  # indent=1 only changes containers
        assert (RAW_KEY in (event.metadata or {})) is copied


def test_exact_bytes_survive_a_cassette_file(tmp_path: Path) -> None:
    events = [recorded(raw) for raw in (b'{"b": 2, "a": 1}', b"\x00\x01", b"text")]
    path = write_cassette(tmp_path / "c.jsonl", EventReplayer.from_events(events).to_cassette())
    loaded = EventReplayer(path).events
    assert [payload_bytes(e, restore(e.event_data)) for e in loaded] == [
        b'{"b": 2, "a": 1}',
        b"\x00\x01",
        b"text",
    ]


def test_edited_event_data_wins_over_the_recorded_bytes() -> None:
    event = recorded(b'{"price": 1.50}')
    edited = RecordedEvent(0.0, "chan", {"price": 2}, None, None, event.metadata)
    assert payload_bytes(edited, restore(edited.event_data)) == b'{"price":2}'


def test_edited_event_data_keeps_the_recorded_json_layout() -> None:
    event = recorded(b'{"price": 1.5, "qty": 2}')
    assert event.metadata == {JSON_STYLE_KEY: "python"}
    edited = RecordedEvent(0.0, "chan", {"price": 2.5, "qty": 2}, None, None, event.metadata)
    assert payload_bytes(edited, restore(edited.event_data)) == b'{"price": 2.5, "qty": 2}'


def test_a_corrupt_raw_copy_is_a_clear_error() -> None:
    event = RecordedEvent(0.0, "orders", "x", None, None, {RAW_KEY: "not base64!"})
    with pytest.raises(
        ValueError, match=r"event 'orders': metadata 'payload_b64' is not valid base64"
    ):
        payload_bytes(event, "x")


@pytest.mark.parametrize(
    "raw", [b'{"user":  "bob", "ssn": "123"}', b'{"user": "bob", "ssn": "123"}', b'{"ssn":"123"}']
)
def test_a_payload_holding_a_key_the_recording_redacts_keeps_no_bytes(raw: bytes) -> None:
    """Whatever its layout: only the redacted data is kept, and replay encodes it."""
    redaction = Redaction([*DEFAULT_REDACT_KEYS, "ssn"])
    data, metadata = describe_payload(raw, redaction)
    assert data == json.loads(raw)  # the recorder redacts the data itself
    assert metadata == {}
    redacted = snapshot(data, redaction)
    assert redacted["ssn"] == REDACTED
    event = RecordedEvent(0.0, "chan", redacted, None, None, None)
    assert b"123" not in payload_bytes(event, restore(redacted))


def test_a_payload_the_recording_does_not_redact_keeps_its_bytes() -> None:
    raw = b'{"user":  "bob", "token": "xyz"}'
    assert describe_payload(raw)[1] == {}  # the default redaction hides the token
    data, metadata = describe_payload(raw, NO_REDACTION)
    assert RAW_KEY in metadata
    event = RecordedEvent(0.0, "chan", data, None, None, metadata)
    assert payload_bytes(event, restore(data)) == raw


class CapturingBus:
    """An adapter that only keeps the sink it is given."""

    name = "capturing"

    def __init__(self) -> None:
        self.sink: object = None

    def attach(self, sink: object) -> None:
        self.sink = sink

    def detach(self) -> None:
        """Nothing to undo."""

    def publish(self, event: RecordedEvent, payload: object) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release."""


def test_adapters_learn_the_recorders_redaction_from_its_sink() -> None:
    custom = Redaction([*DEFAULT_REDACT_KEYS, "ssn"])
    bus = CapturingBus()
    with EventRecorder("s", redaction=custom) as recorder:
        recorder.start_recording(bus)
        assert redaction_of(bus.sink) is custom  # type: ignore[arg-type]
    assert redaction_of(lambda *args, **kwargs: None) is DEFAULT_REDACTION  # names none


@pytest.mark.parametrize(
    ("payload", "raw"),
    [
        (b"\x01", b"\x01"),
        ("text", b"text"),
        ({"k": [1, 2]}, b'{"k":[1,2]}'),
        ({"blob": b"hi"}, b'{"blob":{"__bytes__":"aGk="}}'),
        (None, b"null"),
    ],
)
def test_events_from_other_buses_are_encoded(payload: object, raw: bytes) -> None:
    assert encode_payload(payload) == raw


# --------------------------------------------------------------------------- describe once
# describe_payload decodes once and encodes at most twice; the reference below is the
# straightforward version it replaced (decode, snapshot, restore, encode, then each layout),
# which says what the answer must be.


def _reference_describe(raw: bytes) -> tuple[object, dict[str, object]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"__bytes__": base64.b64encode(raw).decode("ascii")}, {}

    def finite(number: str) -> float:
        value = float(number)
        if not math.isfinite(value):
            raise ValueError(number)
        return value

    def no_constant(name: str) -> None:
        raise ValueError(name)

    def dump(value: object, style: str) -> bytes:
        if style == "compact":
            return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return json.dumps(value).encode()

    try:
        data = json.loads(text, parse_float=finite, parse_constant=no_constant)
        dump(data, "compact")
    except (ValueError, RecursionError):
        data = text
    if snapshot(data) != data:
        return data, {}
    if encode_payload(restore(data)) == raw:
        return data, {}
    for style in ("compact", "python"):
        try:
            if dump(data, style) == raw:
                return data, {JSON_STYLE_KEY: style}
        except (ValueError, TypeError):
            pass
    return data, {RAW_KEY: base64.b64encode(raw).decode("ascii")}


_JSON_DATA = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-05, 1e-7, 0.00001, 1e22, -0.0, 5e-324])
    | st.text(max_size=8)
    | st.sampled_from(["été", "\u2028", "[REDACTED]", "aGk="]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=5)
            | st.sampled_from(["password", "api_key", "__bytes__", "__float__", "wsgi.version"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=10,
)
_LAYOUTS = [
    lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    json.dumps,
    lambda v: json.dumps(v, indent=1),
    lambda v: json.dumps(v, sort_keys=True),
    lambda v: json.dumps(v, separators=(",", ":")),
]


@given(_JSON_DATA, st.sampled_from(range(len(_LAYOUTS))))
def test_describing_json_payloads_gives_what_the_reference_gives(
    value: object, layout: int
) -> None:
    raw = _LAYOUTS[layout](value).encode("utf-8", "surrogatepass")
    assert describe_payload(raw) == _reference_describe(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"__bytes__":"aGk="}',
        b'{"x":{"__float__":"nan"}}',
        b'["a",{"__bytes__":"aGk="}]',
        b'{"password":"hunter2"}',
        b'{"wsgi.version":[1,0]}',
        b"[" * 70 + b"]" * 70,
        b"[" * 5000 + b"]" * 5000,
        b'"\\ud800"',
        b'{"a":"\\udfff"}',
        b"1e400",
        b"-0",
        b"1E5",
        b" 12 ",
        b"\xef\xbb\xbf1",
        b"\xff",
        b"12345678901234567890123456789",
        b'{"a":1,"a":2}',
        b"0.000001",
        b"1e-7",
        b"null",
    ],
)
def test_describing_odd_payloads_gives_what_the_reference_gives(raw: bytes) -> None:
    assert describe_payload(raw) == _reference_describe(raw)


@given(st.binary(max_size=40))
def test_describing_any_bytes_gives_what_the_reference_gives(raw: bytes) -> None:
    assert describe_payload(raw) == _reference_describe(raw)
