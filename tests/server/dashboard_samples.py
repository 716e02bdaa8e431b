"""Sample recordings shared by the dashboard backend tests."""

from __future__ import annotations

from pathlib import Path

from pytest_eventrecorder import Cassette, RecordedEvent, write_cassette

START = "2025-10-17T10:00:00Z"
HEADER_LINE = b'{"session_name": "s", "start_time": "2025-10-17T10:00:00Z"}\n'


def sample_events() -> list[RecordedEvent]:
    """Ten events: two names, two sources, one without a source, nested data."""
    events = []
    for i in range(10):
        events.append(
            RecordedEvent(
                timestamp_offset_ms=float(i * 100),
                event_name="MarketDataReceived" if i % 2 == 0 else "OrderPlaced",
                event_data={
                    "symbol": "BTC/USDT" if i < 6 else "ETH/USDT",
                    "price": 100 + i,
                    "order": {"id": f"o-{i}", "side": "buy" if i % 3 else "sell"},
                    "items": [{"sku": f"s{i}"}],
                },
                source=None if i == 9 else ("MarketDataAgent" if i < 5 else "TradingBot"),
            )
        )
    return events


def write(
    folder: Path, name: str, events: list[RecordedEvent] | None = None, session: str = "bull_run"
) -> Path:
    cassette = Cassette.build(
        session, sample_events() if events is None else events, start_time=START
    )
    return write_cassette(folder / name, cassette)
