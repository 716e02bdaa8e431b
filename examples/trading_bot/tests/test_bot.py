"""The bot's behaviour, pinned by cassettes: ticks are replayed, orders are verified."""

from __future__ import annotations

import pytest
from trading_bot import ServiceBus, TradingBot, live_feed

from pytest_eventrecorder import EventCassette
from pytest_eventrecorder.matchers import approx


@pytest.mark.event_cassette(inputs=["PriceTick"])
def test_buys_the_dip_and_takes_profit(
    service_bus: ServiceBus, bot: TradingBot, event_cassette: EventCassette
) -> None:
    event_cassette.play(live=lambda: live_feed(service_bus, "BTC"))
    assert [o.side for o in bot.orders] == ["buy", "sell", "buy", "sell"]


@pytest.mark.event_cassette(inputs=["PriceTick"])
@pytest.mark.parametrize("symbol", ["ETH", "FLAT"])
def test_each_symbol(
    service_bus: ServiceBus, bot: TradingBot, event_cassette: EventCassette, symbol: str
) -> None:
    event_cassette.play(live=lambda: live_feed(service_bus, symbol))
    assert all(o.symbol == symbol for o in bot.orders)


@pytest.mark.event_cassette(inputs=[], ignore_fields=["placed_at", "ts"])
def test_daily_report_golden_master(
    service_bus: ServiceBus, bot: TradingBot, event_cassette: EventCassette
) -> None:
    live_feed(service_bus, "BTC", interval_s=0)
    report = bot.close_day()
    assert report.trades == len(bot.orders)


@pytest.mark.event_cassette(inputs=["PriceTick"], matchers={"event_data.price": approx(rel=1e-3)})
def test_fills_within_slippage(
    service_bus: ServiceBus, bot: TradingBot, event_cassette: EventCassette
) -> None:
    """Fill prices may differ by 0.1% from the recording (TRADING_BOT_SLIPPAGE=0.0005 passes);
    each order is compared with the orders its own tick caused when recorded."""
    event_cassette.play(live=lambda: live_feed(service_bus, "BTC"))
    assert len(bot.orders) == 4
