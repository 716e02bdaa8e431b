"""The seed's module form: ``python -m pytest_eventrecorder.event_recorder info|timeline FILE``.

Every ``eventrecorder`` command works here too; the seed's classes are importable from it.
"""

from __future__ import annotations

from .cli import main
from .recorder import EventRecorder
from .replayer import EventReplayer

__all__ = ["EventRecorder", "EventReplayer", "main"]

if __name__ == "__main__":
    main(prog_name="python -m pytest_eventrecorder.event_recorder")
