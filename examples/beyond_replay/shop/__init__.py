"""A small shop on an in-process bus, with two planted bugs for the tools beyond replay.

- ``Ledger`` credits every ``Deposit`` it is handed: a deposit a broker delivers twice is
  credited twice (``event_cassette.explore`` finds it).
- ``Book`` is corrupted by a ``Fill`` for an order closed after it was opened: three events
  among thousands (``eventrecorder shrink`` finds them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class ServiceBus:
    def __init__(self) -> None:
        self.handlers: dict[str, list[Handler]] = {}

    def subscribe(self, name: str, handler: Handler) -> None:
        self.handlers.setdefault(name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> None:
        for handler in list(self.handlers.get(event_name, [])):
            handler(event)


class Ledger:
    def __init__(self, bus: ServiceBus) -> None:
        self.reset()
        bus.subscribe("Deposit", self.on_deposit)

    def reset(self) -> None:
        self.balance = 0

    def on_deposit(self, event: dict[str, Any]) -> None:
        self.balance += event["amount"]  # the bug: event["id"] is never checked


class Book:
    def __init__(self, bus: ServiceBus) -> None:
        self.state: dict[int, str] = {}
        self.corrupted: list[int] = []
        bus.subscribe("Open", self.on_open)
        bus.subscribe("Close", self.on_close)
        bus.subscribe("Fill", self.on_fill)

    def on_open(self, event: dict[str, Any]) -> None:
        self.state[event["id"]] = "open"

    def on_close(self, event: dict[str, Any]) -> None:
        if self.state.get(event["id"]) == "open":
            self.state[event["id"]] = "closed"

    def on_fill(self, event: dict[str, Any]) -> None:
        if self.state.get(event["id"]) == "closed":  # the bug: a late fill is not refused
            self.corrupted.append(event["id"])


def deposits(bus: ServiceBus) -> None:
    for n, amount in enumerate((10, 20, 30)):
        bus.publish("Deposit", {"id": n, "amount": amount}, "bank")


def orders(bus: ServiceBus) -> None:
    for n in range(3):
        bus.publish("Open", {"id": n}, "exchange")
        bus.publish("Fill", {"id": n}, "exchange")
        bus.publish("Close", {"id": n}, "exchange")
