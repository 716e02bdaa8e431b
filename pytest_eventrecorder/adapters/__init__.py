"""Attaching to buses: the adapter registry, built on pluggy hooks.

``adapter_for(bus)`` asks every registered plugin (built-ins, entry points in the
``pytest_eventrecorder.adapters`` group, and anything passed to :func:`register`) for an
adapter; the recorder, the replayer, the pytest plugin and the CLI all go through it.
"""

from __future__ import annotations

import functools

import pluggy

from . import hookspecs, servicebus
from .base import BusAdapter, EventSink
from .hookspecs import hookimpl
from .servicebus import MethodAdapter, ServiceBusAdapter

ENTRY_POINT_GROUP = "pytest_eventrecorder.adapters"

__all__ = [
    "ENTRY_POINT_GROUP",
    "BusAdapter",
    "EventSink",
    "MethodAdapter",
    "ServiceBusAdapter",
    "adapter_for",
    "hookimpl",
    "plugin_manager",
    "register",
    "unregister",
]


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The one registry of adapter plugins (built once, on first use)."""
    pm = pluggy.PluginManager("eventrecorder")
    pm.add_hookspecs(hookspecs)
    pm.register(servicebus, name="eventrecorder.servicebus")
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm


def register(plugin: object, name: str | None = None) -> None:
    """Register an adapter plugin (an object or module with ``eventrecorder_*`` hooks)."""
    plugin_manager().register(plugin, name=name)


def unregister(plugin: object) -> None:
    """Remove a plugin added with :func:`register`."""
    plugin_manager().unregister(plugin)


def adapter_for(bus: object) -> BusAdapter:
    """An adapter for ``bus``, or ``TypeError`` saying what kinds of bus are understood."""
    if isinstance(bus, BusAdapter):
        return bus
    adapter = plugin_manager().hook.eventrecorder_adapter_for(bus=bus)
    if adapter is None:
        raise TypeError(
            f"no adapter knows how to attach to {bus!r}: pass an object with "
            "publish(event_name, event, source), a supported broker URL, or register an adapter "
            "(see pytest_eventrecorder.adapters.register)"
        )
    return adapter  # type: ignore[no-any-return]
