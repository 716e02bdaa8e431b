"""Buses with a publish-like method: the seed's ``publish(event_name, event, source)``, or any
home-grown ``bus.<method>(...)`` described to :class:`MethodAdapter`.

Recording shadows the method with an instance attribute that hands a copy of the call to
the sink and then calls the original, returning (or raising) exactly what it does; other
buses of the same class are untouched, and :meth:`MethodAdapter.detach` puts back exactly
what was there.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..cassette import RecordedEvent
from .base import EventSink
from .fastwrap import signature_wrapper
from .hookspecs import hookimpl
from .patching import Patches
from .signatures import signature_of

_P = inspect.Parameter
log = logging.getLogger("pytest_eventrecorder")


class MethodAdapter:
    """Records and replays through ``bus.<method>``.

    ``name_arg``, ``event_arg`` and ``source_arg`` name the method's parameters that carry
    the event name, the event and its source (``source_arg=None``: the method has none).
    ``event_arg`` may name a ``**kwargs`` parameter, for buses called as
    ``fire(topic, **data)``; the event is then that dict, and replay passes it back as
    keyword arguments.
    """

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
        self._signature = signature_of(original)
        self._positional = _plain_positional(self._signature)
        self._args = (name_arg, event_arg, source_arg)
        self._check_parameters()
        self._positions = _positions(self._positional, self._args)
        self._needs_source = source_arg is not None and self._requires(source_arg)
        self._replay_arity = _replay_arity(self._positional, self._args)
        self._patches = Patches()

    def _check_parameters(self) -> None:
        if self._signature is None:
            return
        params = self._signature.parameters
        if any(p.kind is _P.VAR_KEYWORD for p in params.values()):
            return
        for arg in self._args:
            if arg is not None and arg not in params:
                raise TypeError(
                    f"{type(self.bus).__name__}.{self.method}() has no parameter {arg!r}; "
                    f"its parameters are {', '.join(params) or '(none)'}"
                )

    # ------------------------------------------------------------------ recording

    def attach(self, sink: EventSink) -> None:
        if self._patches:
            raise RuntimeError(f"already recording {type(self.bus).__name__}.{self.method}()")
        self._patches.replace(self.bus, self.method, self._wrap(sink))

    def detach(self) -> None:
        self._patches.restore()

    def close(self) -> None:
        """In-process buses own no connection."""

    def _wrap(self, sink: EventSink) -> Callable[..., Any]:
        original = self._original
        failed = functools.partial(
            log.exception, "could not capture an event from %s()", self.method
        )
        fast = signature_wrapper(original, sink, failed, self._args)
        if fast is not None:
            return fast
        capture = self._capture(sink)
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

    def _capture(self, sink: EventSink) -> Callable[[tuple[Any, ...], dict[str, Any]], None]:
        """Hands one call's event to ``sink``. A call with every argument by position (the
        usual one) takes them from their known places; any other is bound to the signature."""
        plans = self._positions
        capture_bound = functools.partial(self._capture_bound, sink)
        if not plans:
            return capture_bound

        def capture(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            plan = None if kwargs else plans.get(len(args))
            if plan is None:
                capture_bound(args, kwargs)
                return
            name_at, event_at, source_at, source = plan
            try:
                name = args[name_at]
                if type(name) is not str:
                    name = str(name)
                if source_at is not None:
                    source = args[source_at]
                if source is not None and type(source) is not str:
                    source = str(source)
            except Exception:  # only the original's own errors may reach the caller
                log.exception("could not capture an event from %s()", self.method)
                return
            sink(name, args[event_at], source)

        return capture

    def _capture_bound(
        self, sink: EventSink, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        try:
            name, event, source = self._extract(args, kwargs)
        except TypeError:
            return  # a wrong call: the original raises the TypeError its caller expects
        except Exception:  # only the original's own errors may reach the caller
            log.exception("could not capture an event from %s()", self.method)
            return
        sink(name, event, source)

    def _extract(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[str, object, str | None]:
        name_arg, event_arg, source_arg = self._args
        values = self._bind(args, kwargs)
        source = values.get(source_arg) if source_arg else None
        name = values.get(name_arg)
        return str(name), values.get(event_arg), None if source is None else str(source)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        plain = self._positional and _bind_plain(self._positional, args, kwargs)
        if plain:  # Signature.bind costs ~15 us a call; a plain call needs none of it
            return plain
        if self._signature is None:  # a builtin: assume (name, event, source) positions
            positional = dict(zip((a for a in self._args if a), args, strict=False))
            return {**positional, **kwargs}
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        for param in self._signature.parameters.values():
            if param.kind is _P.VAR_KEYWORD:  # names the method only takes through **kwargs
                for key, value in values[param.name].items():
                    values.setdefault(key, value)
        return values

    # ------------------------------------------------------------------ replay

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        # Looked up on every call: the plugin may wrap the method while a replay runs.
        publish = getattr(self.bus, self.method)
        arity = self._replay_arity
        if arity:
            source = event.source
            if arity == 3 and (source is not None or self._needs_source):
                return publish(event.event_name, payload, source)
            return publish(event.event_name, payload)
        name_arg, event_arg, source_arg = self._args
        values: dict[str, object] = {name_arg: event.event_name, event_arg: payload}
        if source_arg is not None and (event.source is not None or self._needs_source):
            values[source_arg] = event.source
        args, kwargs = self._call_arguments(values)
        return publish(*args, **kwargs)

    def _requires(self, arg: str) -> bool:
        param = self._signature.parameters.get(arg) if self._signature else None
        return param is not None and param.default is _P.empty

    def _call_arguments(self, values: dict[str, object]) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments that put each value in its named parameter."""
        if self._signature is None:
            return [], values
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param in self._signature.parameters.values():
            if param.name not in values:
                continue
            value = values.pop(param.name)
            if param.kind is _P.POSITIONAL_ONLY:
                args.append(value)
            elif param.kind is _P.VAR_POSITIONAL:
                args.extend(_as_sequence(value, param.name))
            elif param.kind is _P.VAR_KEYWORD:
                kwargs.update(_as_mapping(value, param.name))
            else:
                kwargs[param.name] = value
        kwargs.update(values)  # names only a **kwargs parameter can take
        return args, kwargs


def _as_sequence(value: object, param: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    raise TypeError(f"*{param} needs a list of arguments to replay, got {type(value).__name__}")


def _as_mapping(value: object, param: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return value
    raise TypeError(
        f"**{param} needs a mapping with string keys to replay, got {type(value).__name__}"
    )


def _plain_positional(
    sig: inspect.Signature | None,
) -> tuple[int, tuple[str, ...], dict[str, Any]] | None:
    """(required count, names, defaults) when every parameter may be passed by position."""
    if sig is None:
        return None
    params = list(sig.parameters.values())
    if any(p.kind not in (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD) for p in params):
        return None
    defaults = {p.name: p.default for p in params if p.default is not _P.empty}
    return len(params) - len(defaults), tuple(p.name for p in params), defaults


_Plan = tuple[int, int, "int | None", Any]
"""Where a plain call has the name, the event and the source, or (``None``, the source's
default) when the call leaves the source out."""


def _positions(
    plain: tuple[int, tuple[str, ...], dict[str, Any]] | None,
    arg_names: tuple[str, str, str | None],
) -> dict[int, _Plan]:
    """A :data:`_Plan` for each number of positional arguments a plain call may have."""
    name_arg, event_arg, source_arg = arg_names
    if plain is None or name_arg not in plain[1] or event_arg not in plain[1]:
        return {}
    required, names, defaults = plain
    name_at, event_at = names.index(name_arg), names.index(event_arg)
    source_at = names.index(source_arg) if source_arg in names else None
    plans: dict[int, _Plan] = {}
    for count in range(required, len(names) + 1):
        if name_at >= count or event_at >= count:
            continue  # a left-out name or event: the general binder handles it
        if source_at is not None and source_at < count:
            plans[count] = (name_at, event_at, source_at, None)
        else:
            plans[count] = (name_at, event_at, None, defaults.get(source_arg or ""))
    return plans


def _replay_arity(
    plain: tuple[int, tuple[str, ...], dict[str, Any]] | None,
    arg_names: tuple[str, str, str | None],
) -> int:
    """3 (or 2, with no source) when replay may pass ``(name, event[, source])`` by
    position because they are the method's first parameters; 0 when it needs keywords."""
    name_arg, event_arg, source_arg = arg_names
    if plain is None or plain[1][:2] != (name_arg, event_arg):
        return 0
    if source_arg is None:
        return 2
    return 3 if plain[1][2:3] == (source_arg,) else 0


def _bind_plain(
    plain: tuple[int, tuple[str, ...], dict[str, Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, Any] | None:
    """What ``Signature.bind`` + ``apply_defaults`` give, for calls it would accept; else None."""
    required, names, defaults = plain
    if len(args) > len(names):
        return None
    bound = dict(zip(names, args, strict=False))
    if any(key in bound or key not in names for key in kwargs):
        return None
    values = {**defaults, **bound, **kwargs}
    return values if all(name in values for name in names[:required]) else None


class ServiceBusAdapter(MethodAdapter):
    """The seed's ``publish(event_name, event, source)`` bus, whatever its parameter names."""

    name = "servicebus"

    def __init__(self, bus: object) -> None:
        publish: Callable[..., Any] = bus.publish  # type: ignore[attr-defined]
        names = _positional_names(publish)
        super().__init__(
            bus,
            "publish",
            name_arg=names[0] if len(names) > 0 else "event_name",
            event_arg=names[1] if len(names) > 1 else "event",
            source_arg=names[2] if len(names) > 2 else None,
        )


def _positional_names(func: Callable[..., Any]) -> list[str]:
    sig = signature_of(func)
    if sig is None:
        return ["event_name", "event", "source"]
    kinds = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
    return [p.name for p in sig.parameters.values() if p.kind in kinds]


@hookimpl(trylast=True)
def eventrecorder_adapter_for(bus: object) -> ServiceBusAdapter | None:
    if isinstance(bus, str | bytes) or not callable(getattr(bus, "publish", None)):
        return None
    return ServiceBusAdapter(bus)
