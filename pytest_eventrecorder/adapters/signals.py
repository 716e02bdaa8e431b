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
           ``emit``                 or none: ``{"args", "kwargs"}``
PyPubSub   the topic's dotted name  the message data (dict)        ``None``
========== ======================== ============================== =========================

Replay calls ``signal.send(sender, **event_data)`` (``sender`` given to the adapter, else
the recorded source), ``emitter.emit(name, *args, **kwargs)`` and
``publisher.sendMessage(topic, **event_data)``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..cassette import RecordedEvent
from .base import EventSink
from .hookspecs import hookimpl
from .patching import Patches

_UNSET: Any = object()
_BLINKER_OPTIONS = ("_async_wrapper", "_sync_wrapper")
_NEW_SIGNAL_HOOK = "_eventrecorder_on_new_signal"
PYEE_CALL_KEY = "pyee_call"
"""Metadata marking a pyee event recorded as ``{"args": [...], "kwargs": {...}}``."""


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
            sink(signal_name, data, _sender_name(args[0] if args else None))

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
        sender = event.source if self.sender is _UNSET else self.sender
        if self._namespace is None:
            return self.target.send(sender, **kwargs)
        signal = self._namespace.get(event.event_name)
        # a signal nobody created has no receivers: sending to it would only add it
        return [] if signal is None else signal.send(sender, **kwargs)


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
        if (event.metadata or {}).get(PYEE_CALL_KEY) == "args" and isinstance(payload, dict):
            args, kwargs = payload.get("args", []), payload.get("kwargs", {})
            return emit(event.event_name, *args, **kwargs)
        return emit(event.event_name, payload)


def _capture_emit(
    sink: EventSink, event_name: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if len(args) == 1 and not kwargs:
        sink(str(event_name), args[0])
    else:
        call = {"args": list(args), "kwargs": kwargs}
        sink(str(event_name), call, None, {PYEE_CALL_KEY: "args"})


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
