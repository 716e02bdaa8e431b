"""The seed's bus: any object with ``publish(event_name, event, source)``.

Recording wraps the instance's ``publish`` (an instance attribute, so other buses of the
same class are untouched); :meth:`detach` puts back exactly what was there.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..cassette import RecordedEvent
from .base import EventSink
from .hookspecs import hookimpl

_MISSING = object()


class MethodAdapter:
    """Wraps a publish-like method; ``name_arg``/``event_arg``/``source_arg`` say where each is."""

    name = "method"

    def __init__(
        self,
        bus: object,
        method: str = "publish",
        *,
        name_arg: str = "event_name",
        event_arg: str = "event",
        source_arg: str | None = "source",
    ) -> None:
        original = getattr(bus, method, None)
        if not callable(original):
            raise TypeError(f"{type(bus).__name__} has no callable {method}() to record from")
        self.bus = bus
        self.method = method
        self._original: Callable[..., Any] = original
        self._signature = _signature(original)
        self._args = (name_arg, event_arg, source_arg)
        self._saved: object = _MISSING

    def attach(self, sink: EventSink) -> None:
        if self._saved is not _MISSING:
            raise RuntimeError(f"already recording {type(self.bus).__name__}.{self.method}()")
        self._saved = vars(self.bus).get(self.method, _MISSING) if hasattr(self.bus, "__dict__") else _MISSING
        setattr(self.bus, self.method, self._wrap(sink))

    def detach(self) -> None:
        if self._saved is _MISSING:
            delattr(self.bus, self.method)
        else:
            setattr(self.bus, self.method, self._saved)
        self._saved = _MISSING

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        name_arg, event_arg, source_arg = self._args
        kwargs = {name_arg: event.event_name, event_arg: payload}
        if source_arg is not None and (event.source is not None or self._requires(source_arg)):
            kwargs[source_arg] = event.source
        return getattr(self.bus, self.method)(**kwargs)

    def close(self) -> None:
        """In-process buses own no connection."""

    def _requires(self, arg: str) -> bool:
        param = self._signature.parameters.get(arg) if self._signature else None
        return param is not None and param.default is inspect.Parameter.empty

    def _extract(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, object, str | None]:
        name_arg, event_arg, source_arg = self._args
        bound = self._signature.bind_partial(*args, **kwargs) if self._signature else None
        values = bound.arguments if bound is not None else dict(kwargs)
        source = values.get(source_arg) if source_arg else None
        return str(values.get(name_arg)), values.get(event_arg), None if source is None else str(source)

    def _wrap(self, sink: EventSink) -> Callable[..., Any]:
        original = self._original

        def capture(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            try:
                name, event, source = self._extract(args, kwargs)
            except TypeError:
                return  # a wrong call; the original raises the TypeError the caller expects
            sink(name, event, source)

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def recording_publish_async(*args: Any, **kwargs: Any) -> Any:
                capture(args, kwargs)
                return await original(*args, **kwargs)

            return recording_publish_async

        @functools.wraps(original)
        def recording_publish(*args: Any, **kwargs: Any) -> Any:
            capture(args, kwargs)
            return original(*args, **kwargs)

        return recording_publish


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return None


class ServiceBusAdapter(MethodAdapter):
    """The seed's ``publish(event_name, event, source)`` bus, whatever its parameter names."""

    name = "servicebus"

    def __init__(self, bus: object) -> None:
        names = _positional_names(getattr(bus, "publish"))
        super().__init__(
            bus,
            "publish",
            name_arg=names[0] if len(names) > 0 else "event_name",
            event_arg=names[1] if len(names) > 1 else "event",
            source_arg=names[2] if len(names) > 2 else None,
        )


def _positional_names(func: Callable[..., Any]) -> list[str]:
    sig = _signature(func)
    if sig is None:
        return ["event_name", "event", "source"]
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


@hookimpl(trylast=True)
def eventrecorder_adapter_for(bus: object) -> ServiceBusAdapter | None:
    if isinstance(bus, str) or not callable(getattr(bus, "publish", None)):
        return None
    return ServiceBusAdapter(bus)
