"""Shared helpers for the core engine tests: a seed-style bus and importable event modules."""

from __future__ import annotations

import itertools
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder import RecordedEvent


class ServiceBus:
    """The seed's bus: ``publish(event_name, event, source)`` calls each subscriber in order."""

    def __init__(self) -> None:
        self.subscribers: dict[str, list[Callable[[Any], Any]]] = {}
        self.published: list[tuple[str, Any, str | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, event_name: str, handler: Callable[[Any], Any]) -> None:
        self.subscribers.setdefault(event_name, []).append(handler)

    def publish(self, event_name: str, event: Any, source: str | None = None) -> str:
        with self._lock:
            self.published.append((event_name, event, source))
        for handler in self.subscribers.get(event_name, ()):
            handler(event)
        return f"delivered {event_name}"


@pytest.fixture
def bus() -> ServiceBus:
    return ServiceBus()


def make_events(*offsets: float, name: str = "Tick") -> list[RecordedEvent]:
    return [RecordedEvent(o, name, {"seq": i}, "feed") for i, o in enumerate(offsets)]


_module_ids = itertools.count()


@pytest.fixture
def events_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], str]]:
    """Writes Python source as a fresh importable module; returns its name."""
    folder = tmp_path / "event_modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    created: list[str] = []

    def write(source: str) -> str:
        name = f"core_test_events_{next(_module_ids)}"
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield write
    for name in created:
        sys.modules.pop(name, None)
