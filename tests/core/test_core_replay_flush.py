"""A caller's broker adapter is flushed before a replay returns, so refusals surface."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_eventrecorder import Cassette, CassetteHeader, EventReplayer, RecordedEvent


class Refusing:
    """A caller-owned adapter whose broker refused a message (found out at flush)."""

    name = "refusing"

    def __init__(self) -> None:
        self.published: list[str] = []
        self.flushed = 0

    def attach(self, sink: Any) -> None:
        pass

    def detach(self) -> None:
        pass

    def publish(self, event: RecordedEvent, payload: object) -> None:
        self.published.append(event.event_name)

    def close(self) -> None:
        pass

    def flush(self) -> None:
        self.flushed += 1
        raise ConnectionError("the broker refused 'orders' (QoS 1): Not authorized")


def test_a_refusal_found_at_flush_fails_the_replay() -> None:
    events = tuple(RecordedEvent(i, "orders", {"n": i}) for i in range(3))
    replayer = EventReplayer(Cassette(CassetteHeader("s", "2026-01-01T00:00:00"), events))
    adapter = Refusing()
    with pytest.raises(ConnectionError, match="Not authorized"):
        replayer.replay(adapter, speed_multiplier=float("inf"))
    assert adapter.published == ["orders"] * 3
    assert adapter.flushed == 1
