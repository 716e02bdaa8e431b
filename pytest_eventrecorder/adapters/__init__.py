"""Attaching to buses: the adapter registry, built on pluggy hooks.

``adapter_for(bus)`` asks every registered plugin (the built-ins, entry points in the
``pytest_eventrecorder.adapters`` group, and anything passed to :func:`register`) for an
adapter; the recorder, the replayer, the pytest plugin and the CLI all go through it.
In-process bus objects go to the ``eventrecorder_adapter_for`` hook, broker URL strings
(``redis://``, ``nats://``, ``mqtt://``, ``amqp://``...) to ``eventrecorder_adapter_for_url``.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import pluggy

from . import brokers, hookspecs, servicebus, signals
from .base import BusAdapter, EventSink
from .brokers import BrokerConnectionError, MissingClientError
from .hookspecs import hookimpl
from .servicebus import MethodAdapter, ServiceBusAdapter
from .signals import BlinkerAdapter, PubSubAdapter, PyeeAdapter

ENTRY_POINT_GROUP = "pytest_eventrecorder.adapters"

__all__ = [
    "ENTRY_POINT_GROUP",
    "BlinkerAdapter",
    "BrokerConnectionError",
    "BusAdapter",
    "EventSink",
    "MethodAdapter",
    "MissingClientError",
    "NoAdapterError",
    "PubSubAdapter",
    "PyeeAdapter",
    "ServiceBusAdapter",
    "adapter_for",
    "hookimpl",
    "plugin_manager",
    "register",
    "supported_schemes",
    "unregister",
]


class NoAdapterError(TypeError, ValueError):
    """No registered adapter understands the bus object or URL it was given."""


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The one registry of adapter plugins (built once, on first use)."""
    pm = pluggy.PluginManager("eventrecorder")
    pm.add_hookspecs(hookspecs)
    pm.register(servicebus, name="eventrecorder.servicebus")
    pm.register(signals, name="eventrecorder.signals")
    pm.register(brokers, name="eventrecorder.brokers")
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


def register(plugin: object, name: str | None = None) -> object:
    """Register an adapter plugin (an object or module with ``eventrecorder_*`` hooks).

    Plugins registered later are asked first, so a plugin can take over a bus type or a
    URL scheme from a built-in. Returns ``plugin``, so it also works as a class decorator.
    """
    plugin_manager().register(plugin, name=name)
    return plugin


def unregister(plugin: object) -> None:
    """Remove a plugin added with :func:`register`."""
    plugin_manager().unregister(plugin)


def supported_schemes() -> list[str]:
    """Every broker URL scheme some registered plugin handles, sorted."""
    answers = plugin_manager().hook.eventrecorder_url_schemes()
    return sorted({scheme for schemes in answers for scheme in schemes})


def adapter_for(bus: object) -> BusAdapter:
    """An adapter for ``bus`` (an adapter is returned as is), or :class:`NoAdapterError`."""
    if isinstance(bus, BusAdapter):
        return bus
    hook = plugin_manager().hook
    if isinstance(bus, str):
        scheme = urlsplit(bus).scheme.lower() if "://" in bus else ""
        adapter = hook.eventrecorder_adapter_for_url(url=bus, scheme=scheme) if scheme else None
        if adapter is None:
            raise NoAdapterError(_unknown_url(bus, scheme))
        return adapter  # type: ignore[no-any-return]
    adapter = hook.eventrecorder_adapter_for(bus=bus)
    if adapter is None:
        raise NoAdapterError(
            f"no adapter knows how to attach to {type(bus).__module__}.{type(bus).__qualname__}: "
            "pass an object with publish(event_name, event, source), a MethodAdapter for "
            "another method, a blinker Namespace or signal, a pyee EventEmitter, pypubsub's "
            "pub, a broker URL, or register an adapter (pytest_eventrecorder.adapters.register)"
        )
    return adapter  # type: ignore[no-any-return]


def _unknown_url(url: str, scheme: str) -> str:
    known = ", ".join(f"{s}://" for s in supported_schemes())
    shown = f"{scheme}://..." if scheme else repr(url[:40])
    what = "no adapter handles URLs like" if scheme else "not a bus URL (scheme://host...):"
    return f"{what} {shown}; supported: {known} (or register an adapter plugin)"
