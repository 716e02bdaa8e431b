"""The events the bot consumes and produces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PriceTick:
    symbol: str
    price: float
    ts: float


@dataclass(frozen=True)
class OrderPlaced:
    order_id: str
    symbol: str
    side: str
    qty: int
    price: float
    placed_at: float


@dataclass(frozen=True)
class PositionClosed:
    symbol: str
    entry: float
    exit: float
    pnl: float


@dataclass(frozen=True)
class DailyReport:
    trades: int
    pnl: float
