"""An asyncio bus: ``await publish(name, event, source)`` awaits each subscriber in turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[Any], Awaitable[None]]


class AsyncBus:
    def __init__(self) -> None:
        self.handlers: dict[str, list[Handler]] = {}

    def subscribe(self, event_name: str, handler: Handler) -> None:
        self.handlers.setdefault(event_name, []).append(handler)

    async def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in list(self.handlers.get(event_name, [])):
            await handler(event)
