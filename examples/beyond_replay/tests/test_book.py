"""Passes with its own cassette; `eventrecorder shrink` replays production traffic into it."""

from __future__ import annotations

import pytest
from shop import Book, ServiceBus, orders

from pytest_eventrecorder import EventCassette


@pytest.fixture
def service_bus() -> ServiceBus:
    return ServiceBus()


@pytest.mark.event_cassette(inputs=["Open", "Close", "Fill"])
def test_book(service_bus: ServiceBus, event_cassette: EventCassette) -> None:
    book = Book(service_bus)
    event_cassette.play(live=lambda: orders(service_bus))
    assert not book.corrupted, f"corrupted orders: {book.corrupted}"
