"""Helpers for the core engine tests: a seed-style bus."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pytest_eventrecorder import RecordedEvent


class ServiceBus:
    """The seed's bus: ``publish(event_name, event, source)`` calls each subscriber in order."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[Any], Any]]] = {}
        self.published: list[tuple[str, Any, str | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, event_name: str, handler: Callable[[Any], Any]) -> None:
        self.subscribers.setdefault(event_name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> str:
        with self._lock:
            self.published.append((event_name, event, source))
        for handler in self.subscribers.get(event_name, ()):
            handler(event)
        return f"delivered {event_name}"


def make_events(*offsets: float, name: str = "Tick") -> list[RecordedEvent]:
    return [RecordedEvent(o, name, {"seq": i}, "feed") for i, o in enumerate(offsets)]
