"""Fixtures for the trading-bot suite: its bus, the bot, and cassette options for every test."""

from __future__ import annotations

from typing import Any

import pytest
from trading_bot import ServiceBus, TradingBot


@pytest.fixture
def service_bus() -> ServiceBus:
    """The bus the bot and the exchange feed share."""
    return ServiceBus()


@pytest.fixture
def bot(service_bus: ServiceBus) -> TradingBot:
    """A bot subscribed to the bus (its strategy may come from TRADING_BOT_STRATEGY)."""
    return TradingBot(service_bus)


@pytest.fixture
def event_recorder_config() -> dict[str, Any]:
    """Replay ticks as PriceTick objects; order timestamps differ on every run."""
    return {"events_module": "trading_bot.events", "ignore_fields": ["placed_at"]}
