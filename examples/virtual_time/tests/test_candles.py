"""Four recorded minutes of trades, replayed in milliseconds, close the same candles as
in production - but only under the recorded clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from candles import AsyncBus, CandleAggregator

from pytest_eventrecorder import EventCassette, EventReplayer


@pytest.fixture
def bus() -> AsyncBus:
    return AsyncBus()


@pytest.fixture
def aggregator(bus: AsyncBus) -> Iterator[CandleAggregator]:
    aggregator = CandleAggregator(bus)
    yield aggregator
    aggregator.stop()


CASSETTE = (
    Path(__file__).parent.parent / "cassettes/test_candles/test_candles_close_every_minute.json"
)


@pytest.mark.asyncio
@pytest.mark.event_cassette(inputs=["Trade"], clock="recorded")
async def test_candles_close_every_minute(
    aggregator: CandleAggregator, event_cassette: EventCassette
) -> None:
    began = time.perf_counter()
    await event_cassette.play_async()  # the outputs are then checked against the cassette
    assert [c["trades"] for c in aggregator.closed] == [5, 3, 4]
    assert [c["minute"][11:16] for c in aggregator.closed] == ["12:00", "12:01", "12:03"]
    assert time.perf_counter() - began < 2  # four recorded minutes


@pytest.mark.asyncio
async def test_without_the_clock_the_minutes_collapse(
    bus: AsyncBus, aggregator: CandleAggregator
) -> None:
    """The same trades on the machine's clock, at instant speed: they all arrive within a
    few milliseconds, so they fall in one minute and no minute ever ends. (At speed 1 the
    candles would be right, and the test would take four minutes.)"""
    trades = EventReplayer(CASSETTE).filter_events(lambda name: name == "Trade")
    await trades.replay_async(bus, float("inf"))
    # At most one real minute boundary can fall inside a replay this short.
    assert len(aggregator.closed) <= 1  # production closed three
