"""The bus and the aggregator under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from candles import AsyncBus, CandleAggregator


@pytest.fixture
def bus() -> AsyncBus:
    return AsyncBus()


@pytest.fixture
def aggregator(bus: AsyncBus) -> Iterator[CandleAggregator]:
    aggregator = CandleAggregator(bus)
    yield aggregator
    aggregator.stop()
