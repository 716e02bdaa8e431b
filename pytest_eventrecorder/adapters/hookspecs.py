"""Hook specifications through which adapters plug in (pluggy project ``eventrecorder``).

Third-party adapters register a module or object implementing any of these hooks under
the ``pytest_eventrecorder.adapters`` entry-point group, or at run time with
:func:`pytest_eventrecorder.adapters.register` (from a ``conftest.py``, for example).
Callers never invoke the hooks directly: they all go through
:func:`pytest_eventrecorder.adapters.adapter_for`.

An adapter returned by a hook is a :class:`~pytest_eventrecorder.adapters.BusAdapter`:
``attach(sink)`` captures everything the bus carries (by wrapping its publish method or by
subscribing to every channel), ``publish(event, payload)`` sends one recorded event, and
``detach()``/``close()`` undo ``attach`` and release connections.
"""

from __future__ import annotations

import pluggy

from .base import BusAdapter

hookspec = pluggy.HookspecMarker("eventrecorder")
hookimpl = pluggy.HookimplMarker("eventrecorder")


@hookspec(firstresult=True)
def eventrecorder_adapter_for(bus: object) -> BusAdapter | None:
    """Return an adapter for the in-process ``bus`` object if this plugin drives it, else ``None``.

    ``bus`` is whatever the user handed to the recorder or replayer (a service bus, a
    blinker namespace, an ``EventEmitter``...). URL strings go to
    :func:`eventrecorder_adapter_for_url` instead. The first non-``None`` answer wins;
    plugins registered later are asked first.
    """


@hookspec(firstresult=True)
def eventrecorder_adapter_for_url(url: str, scheme: str) -> BusAdapter | None:
    """Return an adapter for a broker URL such as ``"redis://localhost:6379/0"``, else ``None``.

    ``scheme`` is the URL's scheme, lower-cased (``"redis"``). Creating the adapter should
    not connect yet (``attach``/``publish`` do), but should fail at once, with a clear
    message, when the URL is malformed or the client library is missing.
    """


@hookspec
def eventrecorder_url_schemes() -> list[str]:  # type: ignore[empty-body]
    """The URL schemes this plugin handles, for error messages and ``--help`` texts."""
