"""A mean-reversion bot: buy a dip below the recent average, sell at a profit target.

``TRADING_BOT_STRATEGY=aggressive`` switches to tighter thresholds and bigger orders: the
example's stand-in for "somebody changed the bot's logic". ``TRADING_BOT_SLIPPAGE`` (a
fraction, e.g. ``0.0005``) fills orders that much worse than the tick's price, as a real
exchange might: the stand-in for prices that differ a little from run to run.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass

from .bus import ServiceBus
from .events import DailyReport, OrderPlaced, PositionClosed, PriceTick

SOURCE = "trading_bot"


@dataclass(frozen=True)
class Strategy:
    window: int = 3
    dip: float = 0.02
    take_profit: float = 0.03
    qty: int = 1


CAUTIOUS = Strategy()
AGGRESSIVE = Strategy(window=2, dip=0.01, take_profit=0.02, qty=2)


def strategy_from_env() -> Strategy:
    return AGGRESSIVE if os.environ.get("TRADING_BOT_STRATEGY") == "aggressive" else CAUTIOUS


class TradingBot:
    def __init__(self, bus: ServiceBus, strategy: Strategy | None = None) -> None:
        self.bus = bus
        self.strategy = strategy or strategy_from_env()
        self.orders: list[OrderPlaced] = []
        self.pnl = 0.0
        self._recent: dict[str, deque[float]] = {}
        self._entry: dict[str, float] = {}
        bus.subscribe("PriceTick", self.on_tick)

    def on_tick(self, tick: PriceTick) -> None:
        recent = self._recent.setdefault(tick.symbol, deque(maxlen=self.strategy.window))
        if len(recent) == recent.maxlen:
            self._decide(tick, sum(recent) / len(recent))
        recent.append(tick.price)

    def _decide(self, tick: PriceTick, average: float) -> None:
        entry = self._entry.get(tick.symbol)
        if entry is None and tick.price <= average * (1 - self.strategy.dip):
            self._order(tick, "buy")
            self._entry[tick.symbol] = tick.price
        elif entry is not None and tick.price >= entry * (1 + self.strategy.take_profit):
            self._order(tick, "sell")
            del self._entry[tick.symbol]
            pnl = round((tick.price - entry) * self.strategy.qty, 6)
            self.pnl += pnl
            self.bus.publish(
                "PositionClosed", PositionClosed(tick.symbol, entry, tick.price, pnl), SOURCE
            )

    def _order(self, tick: PriceTick, side: str) -> None:
        order = OrderPlaced(
            order_id=f"{tick.symbol}-{len(self.orders) + 1}",
            symbol=tick.symbol,
            side=side,
            qty=self.strategy.qty,
            price=_filled(tick.price, side),
            placed_at=time.time(),
        )
        self.orders.append(order)
        self.bus.publish("OrderPlaced", order, SOURCE)

    def close_day(self) -> DailyReport:
        report = DailyReport(trades=len(self.orders), pnl=round(self.pnl, 6))
        self.bus.publish("DailyReport", report, SOURCE)
        return report


def _filled(price: float, side: str) -> float:
    """The price an order fills at, after ``TRADING_BOT_SLIPPAGE`` (none by default)."""
    slippage = float(os.environ.get("TRADING_BOT_SLIPPAGE", "0"))
    return round(price * (1 + slippage if side == "buy" else 1 - slippage), 6)
