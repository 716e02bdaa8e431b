"""In-process signal libraries: blinker, pyee and PyPubSub.

None of them is a dependency: an adapter is only offered for objects of a library that is
already imported, and the libraries are imported only by the adapters that use them.

How each library's calls map onto recorded events:

========== ======================== ============================== =========================
library    ``event_name``           ``event_data``                 ``source``
========== ======================== ============================== =========================
blinker    the signal's name        the keyword arguments (dict)   the sender if a string,
                                                                   else its class's name
pyee       the event passed to      the single argument; several   ``None``
           ``emit`` (as text)       or none: ``{"args", "kwargs"}``
PyPubSub   the topic's dotted name  the message data (dict)        ``None``
========== ======================== ============================== =========================

Replay calls ``signal.send(sender, **event_data)``, ``emitter.emit(name, *args, **kwargs)``
and ``publisher.sendMessage(topic, **event_data)``. Identity is given back where a live object
can be found: a blinker sender that was an object (metadata :data:`BLINKER_SENDER_KEY`) is
the live sender of that class that receivers are connected to (Flask's ``sig.connect(fn,
app)``), and a pyee event name that was an Enum member (metadata :data:`PYEE_EVENT_KEY`) is
that member, if its module is imported. Where none is found, the replay sends the recorded
text instead and says so: a :class:`~pytest_eventrecorder.serialize.RebuildWarning` and a
line in the replay result's ``warnings`` (the adapter's :attr:`replay_warnings`).
"""

from __future__ import annotations

import enum
import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from ..cassette import RecordedEvent
from ..serialize import RebuildWarning, imported_data_class
from .base import EventSink
from .hookspecs import hookimpl
from .patching import Patches

_UNSET: Any = object()
_BLINKER_OPTIONS = ("_async_wrapper", "_sync_wrapper")
_NEW_SIGNAL_HOOK = "_eventrecorder_on_new_signal"
PYEE_CALL_KEY = "pyee_call"
"""Metadata marking a pyee event recorded as ``{"args": [...], "kwargs": {...}}``."""
PYEE_EVENT_KEY = "pyee_event"
"""Metadata naming the Enum member a pyee event name was: ``"module:Enum.MEMBER"``."""
BLINKER_SENDER_KEY = "blinker_sender"
"""Metadata saying the blinker sender was an object (``"instance"``) or a class (``"class"``),
named by the event's source."""


class _Notes:
    """What a replay could not give back faithfully: warned of once per kind, and kept for
    the replay result."""

    def __init__(self) -> None:
        self.replay_warnings: list[str] = []
        self._seen: set[str] = set()

    def note(self, key: str, message: str) -> None:
        if key not in self._seen:
            self._seen.add(key)
            self.replay_warnings.append(message)
            warnings.warn(message, RebuildWarning, stacklevel=2)


def _keyword_arguments(event: RecordedEvent, payload: object, library: str) -> dict[str, Any]:
    if isinstance(payload, Mapping) and all(isinstance(k, str) for k in payload):
        return dict(payload)
    raise TypeError(
        f"{library} passes events as keyword arguments, but event {event.event_name!r} "
        f"carries {type(payload).__name__}, not a dict with string keys"
    )


# --------------------------------------------------------------------------- blinker


class BlinkerAdapter:
    """Records every signal of a blinker ``Namespace`` (including signals created while
    recording), or a single ``Signal``.

    ``sender`` is what replay passes as the sender (default: the recorded source string);
    an anonymous ``Signal()`` needs ``name``, the event name to record it under.
    """

    name = "blinker"

    def __init__(self, target: object, *, sender: object = _UNSET, name: str | None = None) -> None:
        import blinker

        if isinstance(target, blinker.Namespace):
            self._namespace: Any = target
        elif isinstance(target, blinker.Signal):
            self._namespace = None
            name = name or getattr(target, "name", None)
            if not name:
                raise TypeError("an anonymous blinker Signal needs BlinkerAdapter(sig, name=...)")
        else:
            raise TypeError(f"not a blinker Namespace or Signal: {type(target).__name__}")
        self.target: Any = target
        self.signal_name = name
        self.sender = sender
        self._patches = Patches()
        self._sink: EventSink | None = None
        self._notes = _Notes()

    @property
    def replay_warnings(self) -> list[str]:
        """Senders this adapter's replays could not find (one line per signal and sender)."""
        return self._notes.replay_warnings

    def attach(self, sink: EventSink) -> None:
        if self._sink is not None:
            raise RuntimeError(f"already recording {self.target!r}")
        self._sink = sink
        try:
            if self._namespace is None:
                self._wrap(self.target, self.signal_name or "")
            else:
                self._attach_namespace(self._namespace)
        except BaseException:
            self.detach()
            raise

    def _attach_namespace(self, namespace: Any) -> None:
        for signal_name, signal in list(namespace.items()):
            self._wrap(signal, signal_name)
        hooks = [*vars(namespace).get(_NEW_SIGNAL_HOOK, ()), self._wrap]
        self._patches.replace(namespace, _NEW_SIGNAL_HOOK, hooks)
        namespace_class: type = type(namespace)
        if not getattr(namespace_class, _NEW_SIGNAL_HOOK, False):
            self._patches.replace(namespace, "__class__", _recording_class(namespace_class))

    def detach(self) -> None:
        self._patches.restore()
        self._sink = None

    def close(self) -> None:
        """In-process buses own no connection."""

    def _wrap(self, signal: Any, signal_name: str) -> None:
        self._patches.replace(signal, "send", self._recording(signal, signal_name, signal.send))
        self._patches.replace(
            signal, "send_async", self._recording(signal, signal_name, signal.send_async)
        )

    def _recording(
        self, signal: Any, signal_name: str, original: Callable[..., Any]
    ) -> Callable[..., Any]:
        sink = self._sink
        assert sink is not None

        def capture(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            if getattr(signal, "is_muted", False):
                return  # a muted signal delivers nothing
            data = {k: v for k, v in kwargs.items() if k not in _BLINKER_OPTIONS}
            sender = args[0] if args else None
            sink(signal_name, data, _sender_name(sender), _sender_kind(sender))

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def recording_send_async(*args: Any, **kwargs: Any) -> Any:
                capture(args, kwargs)
                return await original(*args, **kwargs)

            return recording_send_async

        @functools.wraps(original)
        def recording_send(*args: Any, **kwargs: Any) -> Any:
            capture(args, kwargs)
            return original(*args, **kwargs)

        return recording_send

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        kwargs = _keyword_arguments(event, payload, "blinker")
        signal = self.target if self._namespace is None else self._namespace.get(event.event_name)
        if signal is None:
            return []  # a signal nobody created has no receivers: sending would only add it
        sender = event.source if self.sender is _UNSET else self.sender
        kind = (event.metadata or {}).get(BLINKER_SENDER_KEY)
        # With no receiver connected nobody can miss the sender object: no lookup, no warning.
        if self.sender is _UNSET and kind is not None and signal.receivers:
            sender = self._live_sender(signal, event, kind)
        return signal.send(sender, **kwargs)

    def _live_sender(self, signal: Any, event: RecordedEvent, kind: object) -> object:
        """The live object the recorded sender was: among the senders the signal's
        receivers are connected to, the one of the recorded class (or that class)."""
        found = [
            live
            for ref in list(getattr(signal, "_weak_senders", {}).values())
            if (live := ref()) is not None
            and _sender_name(live) == event.source
            and isinstance(live, type) == (kind == "class")
        ]
        if len(found) == 1:
            return found[0]
        problem = "several live senders" if found else "no live sender"
        self._notes.note(
            f"{event.event_name}\0{event.source}",
            f"signal {event.event_name!r}: {problem} of type {event.source} connected to it, "
            f"so it was sent by the text {event.source!r}; receivers connected to one sender "
            "miss it (pass BlinkerAdapter(..., sender=obj) to choose)",
        )
        return event.source


def _sender_kind(sender: object) -> dict[str, str] | None:
    """Metadata for a sender recorded by its class's name: whether it was that class."""
    if sender is None or isinstance(sender, str):
        return None
    return {BLINKER_SENDER_KEY: "class" if isinstance(sender, type) else "instance"}


def _sender_name(sender: object) -> str | None:
    if sender is None or isinstance(sender, str):
        return sender
    cls = sender if isinstance(sender, type) else type(sender)
    return f"{cls.__module__}.{cls.__qualname__}"


@functools.cache
def _recording_class(namespace_class: type) -> type:
    """A subclass whose ``__setitem__`` also wraps signals added while recording.

    Swapping an instance's class is the one way to see ``namespace[name] = signal`` inside
    ``Namespace.signal()``, including through ``blinker.signal``, which holds a bound method.
    """

    set_item: Callable[[Any, str, Any], None] = getattr(namespace_class, "__setitem__")  # noqa: B009

    def __setitem__(self: Any, key: str, value: Any) -> None:
        set_item(self, key, value)
        for on_new_signal in vars(self).get(_NEW_SIGNAL_HOOK, ()):
            on_new_signal(value, key)

    members: dict[str, object] = {"__setitem__": __setitem__, _NEW_SIGNAL_HOOK: True}
    return type(namespace_class.__name__, (namespace_class,), members)


# --------------------------------------------------------------------------- pyee


class PyeeAdapter:
    """Records ``EventEmitter.emit`` (any pyee emitter); pyee's own ``new_listener`` events
    are not recorded."""

    name = "pyee"

    def __init__(self, emitter: object) -> None:
        if not callable(getattr(emitter, "emit", None)):
            raise TypeError(f"{type(emitter).__name__} has no emit() to record from")
        self.emitter = emitter
        self._patches = Patches()
        self._notes = _Notes()
        self._members: dict[str, object] = {}

    @property
    def replay_warnings(self) -> list[str]:
        """Enum event names this adapter's replays could not find (one line per name)."""
        return self._notes.replay_warnings

    def attach(self, sink: EventSink) -> None:
        if self._patches:
            raise RuntimeError(f"already recording {self.emitter!r}")
        original = self.emitter.emit  # type: ignore[attr-defined]

        @functools.wraps(original)
        def recording_emit(*args: Any, **kwargs: Any) -> Any:
            if args and args[0] != "new_listener":
                _capture_emit(sink, args[0], args[1:], kwargs)
            return original(*args, **kwargs)

        self._patches.replace(self.emitter, "emit", recording_emit)

    def detach(self) -> None:
        self._patches.restore()

    def close(self) -> None:
        """In-process buses own no connection."""

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        emit = self.emitter.emit  # type: ignore[attr-defined]
        metadata = event.metadata or {}
        member = metadata.get(PYEE_EVENT_KEY)
        name = event.event_name if member is None else self._member(event, str(member))
        if metadata.get(PYEE_CALL_KEY) == "args" and isinstance(payload, dict):
            args, kwargs = payload.get("args", []), payload.get("kwargs", {})
            return emit(name, *args, **kwargs)
        return emit(name, payload)

    def _member(self, event: RecordedEvent, member: str) -> object:
        """The Enum member ``"module:Enum.MEMBER"`` names, else the recorded text (noted)."""
        if member not in self._members:
            enum_type, _, member_name = member.rpartition(".")
            cls, why = imported_data_class(enum_type)
            found = getattr(cls, "__members__", {}).get(member_name)
            if found is None:
                why = why or f"{enum_type} has no member {member_name!r}"
                self._notes.note(
                    member,
                    f"pyee event {event.event_name!r} was emitted by its text, not as "
                    f"{member}: {why}; listeners on the member miss it",
                )
            self._members[member] = event.event_name if found is None else found
        return self._members[member]


def _capture_emit(
    sink: EventSink, event_name: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    metadata: dict[str, str] = {}
    if isinstance(event_name, enum.Enum):
        kind = type(event_name)
        metadata[PYEE_EVENT_KEY] = f"{kind.__module__}:{kind.__qualname__}.{event_name.name}"
    if len(args) == 1 and not kwargs:
        sink(str(event_name), args[0], None, metadata or None)
    else:
        call = {"args": list(args), "kwargs": kwargs}
        sink(str(event_name), call, None, {**metadata, PYEE_CALL_KEY: "args"})


# --------------------------------------------------------------------------- PyPubSub


class PubSubAdapter:
    """Records every PyPubSub message through a listener on ``ALL_TOPICS``.

    PyPubSub calls the root topic's listeners first, so each message is recorded before
    any topic listener runs, and a listener's exception still reaches ``sendMessage``.
    """

    name = "pypubsub"

    def __init__(self, bus: object) -> None:
        from pubsub import pub
        from pubsub.core.publisher import Publisher

        self.publisher: Any = pub.getDefaultPublisher() if bus is pub else bus
        if not isinstance(self.publisher, Publisher):
            raise TypeError(f"not PyPubSub's pub module or a Publisher: {type(bus).__name__}")
        self._all_topics = pub.ALL_TOPICS
        self._auto_topic = pub.AUTO_TOPIC
        self._listener: Callable[..., None] | None = None

    def attach(self, sink: EventSink) -> None:
        if self._listener is not None:
            raise RuntimeError("already recording this PyPubSub publisher")

        def record_message(eventrecorder_topic_: Any = self._auto_topic, **data: Any) -> None:
            sink(eventrecorder_topic_.getName(), data)

        # PyPubSub holds listeners weakly: the adapter keeps this one alive
        self._listener = record_message
        self.publisher.subscribe(record_message, self._all_topics)

    def detach(self) -> None:
        if self._listener is not None:
            self.publisher.unsubscribe(self._listener, self._all_topics)
            self._listener = None

    def close(self) -> None:
        """In-process buses own no connection."""

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        kwargs = _keyword_arguments(event, payload, "PyPubSub")
        return self.publisher.sendMessage(event.event_name, **kwargs)


# --------------------------------------------------------------------------- hook


@hookimpl
def eventrecorder_adapter_for(
    bus: object,
) -> BlinkerAdapter | PyeeAdapter | PubSubAdapter | None:
    blinker = sys.modules.get("blinker")
    if blinker is not None and isinstance(bus, blinker.Namespace | blinker.Signal):
        return BlinkerAdapter(bus)
    pyee = sys.modules.get("pyee")
    if pyee is not None and isinstance(bus, pyee.EventEmitter):
        return PyeeAdapter(bus)
    pubsub_core = sys.modules.get("pubsub.core")
    if pubsub_core is not None and (
        bus is sys.modules.get("pubsub.pub") or isinstance(bus, pubsub_core.Publisher)
    ):
        return PubSubAdapter(bus)
    return None
