"""Write the trade feed the example replays: four minutes of BTC trades, one of them quiet.

Run once from this folder; then ``pytest --record-mode=new_episodes`` appends the candles
(the cassette in cassettes/ was made that way).
"""

from __future__ import annotations

from pathlib import Path

from pytest_eventrecorder import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette

TRADES_S = [10, 22, 31, 45, 58, 65, 80, 119, 185, 190, 205, 220]
"""Seconds after 12:00:00: five trades in minute 0, three in minute 1, none in minute 2."""
PRICES = [67500, 67520, 67490, 67550, 67530, 67560, 67580, 67540, 67600, 67620, 67590, 67610]
CASSETTE = Path("cassettes/test_candles/test_candles_close_every_minute.json")


def main() -> None:
    events = [
        RecordedEvent(s * 1000.0, "Trade", {"symbol": "BTC/USDT", "price": p}, "exchange")
        for s, p in zip(TRADES_S, PRICES, strict=True)
    ]
    CASSETTE.parent.mkdir(parents=True, exist_ok=True)
    cassette = Cassette.build("candles", events, start_time="2024-03-01T12:00:00.000Z")
    write_cassette(CASSETTE, cassette)
    print(f"wrote {len(events)} trades to {CASSETTE}")


if __name__ == "__main__":
    main()
