"""Sample cassettes and helpers shared by the command-line tests."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from pytest_eventrecorder import Cassette, RecordedEvent

START = "2025-10-17T10:00:00Z"
NAMES = ("MarketDataReceived", "OrderPlaced", "OrderFilled")
SOURCES = ("MarketDataAgent", "TradingBot", None)

Invoke = Callable[..., Result]


def sample_events(count: int = 9) -> list[RecordedEvent]:
    """Events every 100 ms cycling three names and sources (the third has no source)."""
    return [
        RecordedEvent(
            timestamp_offset_ms=i * 100.0,
            event_name=NAMES[i % 3],
            event_data={"symbol": "BTC/USDT", "price": 100 + i, "tags": [f"t{i % 2}"]},
            source=SOURCES[i % 3],
        )
        for i in range(count)
    ]


def sample_cassette(count: int = 9, session: str = "demo") -> Cassette:
    return Cassette.build(session, sample_events(count), start_time=START, metadata={"k": "v"})


def one_error_line(result: Result) -> str:
    """The single ``Error:`` line a failed command printed (and no traceback)."""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]
