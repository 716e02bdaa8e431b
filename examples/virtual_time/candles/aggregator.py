"""One-minute OHLC candles, closed on time.

A candle covers one wall-clock minute. It closes when a trade of a later minute arrives,
or when its minute ends (a timer), whichever comes first: a quiet market still gets its
candle on time. Both the minute a trade falls in (``time.time()``) and the timer
(``asyncio.sleep``) read the clock, so a replay that delivers four recorded minutes in a
few milliseconds only reproduces production under ``clock="recorded"``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

from .bus import AsyncBus


class CandleAggregator:
    def __init__(self, bus: AsyncBus) -> None:
        self.bus = bus
        self.candle: dict[str, Any] | None = None
        self.closed: list[dict[str, Any]] = []
        self._timer: asyncio.Task[None] | None = None
        bus.subscribe("Trade", self.on_trade)

    async def on_trade(self, trade: dict[str, Any]) -> None:
        now = time.time()
        minute = int(now // 60) * 60
        if self.candle is not None and self.candle["minute"] != minute:
            await self.close()
        if self.candle is None:
            price = trade["price"]
            self.candle = {"minute": minute, "open": price, "high": price, "low": price}
            self.candle["trades"] = 0
            self._timer = asyncio.get_running_loop().create_task(self._close_in(minute + 60 - now))
        self._add(trade)

    def _add(self, trade: dict[str, Any]) -> None:
        assert self.candle is not None
        price = trade["price"]
        self.candle["high"] = max(self.candle["high"], price)
        self.candle["low"] = min(self.candle["low"], price)
        self.candle["close"] = price
        self.candle["trades"] += 1

    async def _close_in(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._timer = None  # this timer is done: close() must not cancel it
        await self.close()

    async def close(self) -> None:
        candle, self.candle = self.candle, None
        if candle is None:
            return
        self.stop()
        candle["minute"] = datetime.fromtimestamp(candle["minute"], timezone.utc).isoformat()
        self.closed.append(candle)
        await self.bus.publish("CandleClosed", candle, "candles")

    def stop(self) -> None:
        """Cancel the pending end-of-minute timer, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
