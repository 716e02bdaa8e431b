"""Record, replay and regression-test the events on your service bus."""

from __future__ import annotations

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
    TruncatedCassetteWarning,
    iter_events,
    read_cassette,
    read_header,
    write_cassette,
    write_events,
)
from .pytest_plugin.options import RECORD_MODES
from .pytest_plugin.session import CassetteReplay, EventCassette, EventCassetteWarning
from .recorder import EventRecorder
from .replayer import EventReplayer, ReplayError, ReplayResult
from .serialize import EventRebuildError, snapshot
from .server import EventRecorderServer

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
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
    "RecordedEvent",
    "ReplayError",
    "ReplayResult",
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
