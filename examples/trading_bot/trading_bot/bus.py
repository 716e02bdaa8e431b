"""The service bus: ``publish(event_name, event, source)`` calls every subscriber in order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class ServiceBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, event_name: str, handler: Handler) -> None:
        self._handlers[event_name].append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in list(self._handlers[event_name]):
            handler(event)
