"""Record, replay and regression-test the events on your service bus.

Every public name is imported on first use (PEP 562): the pytest plugin loads this package
in every pytest session of an environment, and most sessions never touch a cassette.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cassette import (
        FORMAT_VERSION,
        Cassette,
        CassetteError,
        CassetteHeader,
        RecordedEvent,
        UnknownFieldWarning,
    )
    from .clock import RealClock, VirtualClock
    from .config import ConfigError, EventRecorderConfig
    from .formats import (
        EventStream,
        StreamInUseError,
        TruncatedCassetteWarning,
        iter_events,
        read_cassette,
        read_header,
        write_cassette,
        write_events,
    )
    from .pytest_plugin.modes import RECORD_MODES
    from .pytest_plugin.session import CassetteReplay, EventCassette, EventCassetteWarning
    from .recorder import EventRecorder
    from .replayer import EventReplayer, ReplayError, ReplayResult
    from .serialize import (
        DEFAULT_REDACT_KEYS,
        NO_REDACTION,
        EventRebuildError,
        RebuildWarning,
        Redaction,
        snapshot,
    )
    from .server import EventRecorderServer

__version__ = "0.1.0"

_HOMES = {
    ".cassette": (
        "FORMAT_VERSION",
        "Cassette",
        "CassetteError",
        "CassetteHeader",
        "RecordedEvent",
        "UnknownFieldWarning",
    ),
    ".clock": ("RealClock", "VirtualClock"),
    ".config": ("ConfigError", "EventRecorderConfig"),
    ".formats": (
        "EventStream",
        "StreamInUseError",
        "TruncatedCassetteWarning",
        "iter_events",
        "read_cassette",
        "read_header",
        "write_cassette",
        "write_events",
    ),
    ".pytest_plugin.modes": ("RECORD_MODES",),
    ".pytest_plugin.session": ("CassetteReplay", "EventCassette", "EventCassetteWarning"),
    ".recorder": ("EventRecorder",),
    ".replayer": ("EventReplayer", "ReplayError", "ReplayResult"),
    ".serialize": (
        "DEFAULT_REDACT_KEYS",
        "NO_REDACTION",
        "EventRebuildError",
        "RebuildWarning",
        "Redaction",
        "snapshot",
    ),
    ".server": ("EventRecorderServer",),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DEFAULT_REDACT_KEYS",
    "FORMAT_VERSION",
    "NO_REDACTION",
    "RECORD_MODES",
    "Cassette",
    "CassetteError",
    "CassetteHeader",
    "CassetteReplay",
    "ConfigError",
    "EventCassette",
    "EventCassetteWarning",
    "EventRebuildError",
    "EventRecorder",
    "EventRecorderConfig",
    "EventRecorderServer",
    "EventReplayer",
    "EventStream",
    "RealClock",
    "RebuildWarning",
    "RecordedEvent",
    "Redaction",
    "ReplayError",
    "ReplayResult",
    "StreamInUseError",
    "TruncatedCassetteWarning",
    "UnknownFieldWarning",
    "VirtualClock",
    "__version__",
    "iter_events",
    "read_cassette",
    "read_header",
    "snapshot",
    "write_cassette",
    "write_events",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
