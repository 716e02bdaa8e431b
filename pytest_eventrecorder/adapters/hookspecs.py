"""Hook specifications through which adapters plug in (pluggy project ``eventrecorder``).

Third-party adapters register a module or object implementing these hooks under the
``pytest_eventrecorder.adapters`` entry-point group, or at run time with
:func:`pytest_eventrecorder.adapters.register`.
"""

from __future__ import annotations

import pluggy

from .base import BusAdapter

hookspec = pluggy.HookspecMarker("eventrecorder")
hookimpl = pluggy.HookimplMarker("eventrecorder")


@hookspec(firstresult=True)
def eventrecorder_adapter_for(bus: object) -> BusAdapter | None:  # type: ignore[empty-body]
    """Return an adapter for ``bus`` if this plugin knows how to drive it, else ``None``.

    ``bus`` is whatever the user handed to the recorder or replayer: an in-process bus
    object, or a broker URL string such as ``"redis://localhost:6379/0"``. The first
    non-``None`` answer wins; adapters registered later are asked first.
    """
