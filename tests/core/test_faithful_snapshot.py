"""What a snapshot stores: content never silently lost, nothing per-process, no secrets,
no unbounded walks through objects that are not data."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import threading
import time
from typing import Any, NamedTuple

import pytest
from core_helpers import ServiceBus
from werkzeug.datastructures import Headers

from pytest_eventrecorder import EventRecorder, RecordedEvent
from pytest_eventrecorder.serialize import (
    DEFAULT_REDACT_KEYS,
    EXCEPTION_TAG,
    NO_REDACTION,
    REDACTED,
    UNSERIALIZABLE_TAG,
    Redaction,
    pack,
    snapshot,
)


class Boom(Exception):
    pass


def test_an_exception_is_recorded_with_its_type_message_and_args() -> None:
    assert snapshot(ValueError("kaboom")) == {
        EXCEPTION_TAG: "builtins.ValueError",
        "message": "kaboom",
        "args": ["kaboom"],
    }
    data = snapshot({"exception": Boom("bad", 42)})
    assert data["exception"] == {
        EXCEPTION_TAG: f"{__name__}.Boom",
        "message": "('bad', 42)",
        "args": ["bad", 42],
    }


def test_a_mapping_that_is_no_dict_is_recorded_by_its_items() -> None:
    headers = Headers([("Content-Type", "text/plain"), ("X-Trace", "a")])
    assert snapshot(headers) == {"Content-Type": "text/plain", "X-Trace": "a"}
    repeated = Headers([("Via", "a"), ("Via", "b")])
    assert snapshot(repeated) == [["Via", "a"], ["Via", "b"]]


def test_an_iterable_container_is_recorded_by_its_items_but_an_iterator_is_never_consumed() -> (
    None
):
    class Basket:
        def __init__(self) -> None:
            self._items = [1, 2]

        def __iter__(self) -> Any:
            return iter(self._items)

        def __len__(self) -> int:
            return len(self._items)

    assert snapshot(Basket()) == [1, 2]
    stream = iter([1, 2])
    assert snapshot(stream)[UNSERIALIZABLE_TAG] == "builtins.list_iterator"
    assert list(stream) == [1, 2]


def test_an_object_with_private_state_only_is_a_marker_not_an_empty_dict() -> None:
    class Opaque:
        def __init__(self) -> None:
            self._secret_state = 1

    marker = snapshot(Opaque())
    assert marker[UNSERIALIZABLE_TAG].endswith("Opaque")
    assert marker != {}


def test_markers_hold_no_memory_addresses() -> None:
    def index() -> None:
        pass

    first = snapshot({"view": index, "thing": object()})
    text = json.dumps(first)
    assert "0x" not in text
    assert "<function" in text
    assert snapshot({"view": index, "thing": object()}) == first


def test_markers_hold_no_thread_idents() -> None:
    worker = threading.Thread(target=time.sleep, args=(0.2,), name="worker")
    worker.start()
    try:
        marker = snapshot({"thread": worker})["thread"]
    finally:
        worker.join()
    assert "worker" in marker["repr"]
    assert str(worker.ident) not in json.dumps(marker)


class Leaf:
    def __init__(self) -> None:
        self.sauce = "buried"


class Middle:
    def __init__(self) -> None:
        self.name = "middle"
        self.leaf = Leaf()
        self.tags = ["a", "b"]
        self.nested = {"level": {"deeper": 1}}


def test_other_objects_are_a_shallow_view() -> None:
    data = snapshot({"obj": Middle()})["obj"]
    assert data["name"] == "middle"
    assert data["tags"] == ["a", "b"]
    assert data["leaf"][UNSERIALIZABLE_TAG].endswith("Leaf")
    assert "buried" not in json.dumps(data)
    assert "deeper" not in json.dumps(data)
    assert data["nested"]["level"][UNSERIALIZABLE_TAG] == "builtins.dict"


@dataclasses.dataclass
class Order:
    order_id: str
    lines: list[dict[str, Any]]


def test_data_classes_and_containers_are_walked_in_full() -> None:
    order = Order("o-1", [{"sku": "a", "qty": {"n": 1}}])
    assert snapshot({"order": order}) == {
        "order": {"order_id": "o-1", "lines": [{"sku": "a", "qty": {"n": 1}}]}
    }


def test_modules_functions_classes_and_applications_are_never_descended() -> None:
    class App:
        def __init__(self) -> None:
            self.config = {"db": "postgres://u:p@host/db"}

        def __call__(self, environ: Any, start_response: Any) -> Any:
            return []

    data = snapshot({"module": os, "cls": App, "app": App(), "fn": print})
    assert all(UNSERIALIZABLE_TAG in value for value in data.values())
    assert "postgres" not in json.dumps(data)


def test_environments_are_never_recorded() -> None:
    environ = {"wsgi.version": (1, 0), "HTTP_X": "y", "REQUEST_METHOD": "GET"}
    data = snapshot({"environ": environ, "env": os.environ})
    assert data["environ"][UNSERIALIZABLE_TAG] == "builtins.dict"
    assert data["env"][UNSERIALIZABLE_TAG] == "os._Environ"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "SECRET_KEY",
        "client_secret",
        "access_token",
        "apiKey",
        "api_key",
        "X-Api-Key",
        "apikey",
        "Authorization",
        "HTTP_AUTHORIZATION",
        "Cookie",
        "Set-Cookie",
        "private_key",
        "privateKey",
        "credentials",
    ],
)
def test_values_under_credential_keys_are_redacted(key: str) -> None:
    assert snapshot({key: "hunter2", "user": "bob"}) == {key: REDACTED, "user": "bob"}
    assert snapshot({"outer": {key: {"nested": "hunter2"}}}) == {"outer": {key: REDACTED}}


@pytest.mark.parametrize("key", ["tokenizer", "secretary", "author", "keys", "max_count"])
def test_keys_that_only_look_alike_are_kept(key: str) -> None:
    assert snapshot({key: "value"}) == {key: "value"}


class Field(str, enum.Enum):
    PASSWORD = "password"
    TOKEN = "enum_test_token"  # a key no other test looks up: DEFAULT_REDACTION has no verdict


class Named(enum.Enum):
    SECRET = "secret"


def test_a_key_that_is_a_str_enum_is_redacted_and_leaves_plain_keys_redacted() -> None:
    """An Enum key is recorded as its value: a credential-like one is redacted. A str Enum
    member equals its value, so its verdict must not answer for the plain text after it."""
    fresh = Redaction()
    assert snapshot({Field.PASSWORD: "hunter2", "n": [1]}, fresh) == {
        "password": REDACTED,
        "n": [1],
    }
    assert snapshot({"password": "hunter2", "n": [1]}, fresh) == {"password": REDACTED, "n": [1]}
    assert snapshot({"password": "hunter2"}, fresh) == {"password": REDACTED}
    assert snapshot({Named.SECRET: "s", "n": [1]}, fresh) == {"secret": REDACTED, "n": [1]}
    assert snapshot({Field.TOKEN: "t", "n": [1]}) == {"enum_test_token": REDACTED, "n": [1]}
    assert snapshot({"enum_test_token": "t"}) == {"enum_test_token": REDACTED}
    with EventRecorder("s") as recorder:
        recorder.start_recording()
        recorder.record("Login", {Field.PASSWORD: "hunter2", "n": [1]})
        recorder.record("Login", {"password": "hunter2"})
    assert "hunter2" not in json.dumps([e.to_dict() for e in recorder.events])


@dataclasses.dataclass
class Login:
    user: str
    password: str


class Creds(NamedTuple):
    user: str
    token: str


def test_redaction_covers_fields_of_data_classes_and_packed_events() -> None:
    assert snapshot(Login("bob", "hunter2")) == {"user": "bob", "password": REDACTED}
    assert snapshot(Creds("bob", "t")) == {"user": "bob", "token": REDACTED}
    assert pack({"user": "bob", "token": "t"}) is None  # the general path redacts it
    assert pack(Login("bob", "hunter2")) is None
    assert pack({"user": "bob", "qty": 1}) is not None


def test_redaction_can_be_turned_off_or_extended() -> None:
    assert snapshot({"token": "t"}, NO_REDACTION) == {"token": "t"}
    assert pack({"token": "t"}, NO_REDACTION) is not None
    extended = Redaction([*Redaction().keys, "ssn"])
    assert snapshot({"ssn": "1", "token": "t", "n": 1}, extended) == {
        "ssn": REDACTED,
        "token": REDACTED,
        "n": 1,
    }
    assert pack({"ssn": "1"}, extended) is None
    assert pack({"n": 1}, extended) is not None


def test_a_recorder_redacts_by_default_and_keeps_what_before_record_answers() -> None:
    bus = ServiceBus()
    with EventRecorder("s") as recorder:
        recorder.start_recording(bus)
        for i in range(3000):
            bus.publish("Login", {"user": i, "api_key": "k"}, "auth")
            bus.publish("Login", Login(str(i), "hunter2"), "auth")
    assert len(recorder.events) == 6000
    assert "hunter2" not in json.dumps([e.to_dict() for e in recorder.events])
    hidden = {e.event_data.get("api_key") or e.event_data.get("password") for e in recorder.events}
    assert hidden == {REDACTED}

    def hook(event: RecordedEvent) -> RecordedEvent:
        assert event.event_data == {"user": "bob", "password": REDACTED}
        return dataclasses.replace(event, event_data={"user": "bob", "password": "***"})

    with EventRecorder("s", before_record=hook) as hooked:
        hooked.start_recording(bus)
        bus.publish("Login", Login("bob", "hunter2"), "auth")
    assert hooked.events[0].event_data == {"user": "bob", "password": "***"}


def test_a_recorder_can_turn_redaction_off_or_extend_it() -> None:
    bus = ServiceBus()
    with EventRecorder("s", redaction=NO_REDACTION) as plain:
        plain.start_recording(bus)
        bus.publish("Login", {"user": "bob", "token": "t"})
        bus.publish("Login", Login("bob", "hunter2"))
    assert [e.event_data for e in plain.events] == [
        {"user": "bob", "token": "t"},
        {"user": "bob", "password": "hunter2"},
    ]
    with EventRecorder("s", redaction=Redaction([*DEFAULT_REDACT_KEYS, "user"])) as more:
        more.start_recording(bus)
        bus.publish("Login", {"user": "bob", "n": 1}, "auth")
    assert more.events[0].event_data == {"user": REDACTED, "n": 1}
