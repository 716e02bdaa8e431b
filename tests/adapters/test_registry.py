"""The adapter registry: built-ins, register(), entry points, conftest plugins, clear errors."""

from __future__ import annotations

import math
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent
from pytest_eventrecorder.adapters import (
    ENTRY_POINT_GROUP,
    MissingClientError,
    NoAdapterError,
    adapter_for,
    hookimpl,
    plugin_manager,
    register,
    supported_schemes,
    unregister,
)
from pytest_eventrecorder.adapters.base import EventSink
from pytest_eventrecorder.adapters.brokers import BrokerAdapter


class Ticker:
    """A bus no built-in adapter understands (no publish method)."""

    def __init__(self) -> None:
        self.listeners: list[Any] = []
        self.sent: list[tuple[str, object]] = []

    def tick(self, name: str, value: object) -> None:
        self.sent.append((name, value))
        for listener in self.listeners:
            listener(name, value)


class TickerAdapter:
    name = "ticker"

    def __init__(self, bus: Ticker) -> None:
        self.bus = bus
        self._listener: Any = None

    def attach(self, sink: EventSink) -> None:
        self._listener = lambda name, value: sink(name, value)
        self.bus.listeners.append(self._listener)

    def detach(self) -> None:
        self.bus.listeners.remove(self._listener)

    def publish(self, event: RecordedEvent, payload: object) -> None:
        self.bus.tick(event.event_name, payload)

    def close(self) -> None:
        pass


class TickerPlugin:
    @hookimpl
    def eventrecorder_adapter_for(self, bus: object) -> TickerAdapter | None:
        return TickerAdapter(bus) if isinstance(bus, Ticker) else None

    @hookimpl
    def eventrecorder_adapter_for_url(self, url: str, scheme: str) -> TickerAdapter | None:
        return TickerAdapter(Ticker()) if scheme == "ticker" else None

    @hookimpl
    def eventrecorder_url_schemes(self) -> list[str]:
        return ["ticker"]


@pytest.fixture
def ticker_plugin() -> Iterator[TickerPlugin]:
    plugin = TickerPlugin()
    register(plugin)
    yield plugin
    unregister(plugin)


def test_a_registered_plugin_records_and_replays_its_bus(ticker_plugin: TickerPlugin) -> None:
    bus = Ticker()
    with EventRecorder("t") as recorder:
        recorder.start_recording(bus)
        bus.tick("up", 1)
    EventReplayer.from_events(recorder.events).replay(bus, math.inf)
    assert bus.sent == [("up", 1), ("up", 1)]
    assert bus.listeners == []


def test_plugins_can_add_url_schemes(ticker_plugin: TickerPlugin) -> None:
    assert isinstance(adapter_for("ticker://anything"), TickerAdapter)
    assert "ticker" in supported_schemes()
    unregister(ticker_plugin)
    register(ticker_plugin)  # the fixture unregisters it again
    assert {"redis", "nats", "mqtt", "amqp"} <= set(supported_schemes())


def test_later_plugins_take_over_built_in_schemes() -> None:
    class Override:
        @hookimpl
        def eventrecorder_adapter_for_url(self, url: str, scheme: str) -> TickerAdapter | None:
            return TickerAdapter(Ticker()) if scheme == "redis" else None

    assert isinstance(adapter_for("redis://localhost"), BrokerAdapter)
    plugin = register(Override())
    try:
        assert isinstance(adapter_for("redis://localhost"), TickerAdapter)
    finally:
        unregister(plugin)


def test_adapters_pass_through_and_unknown_things_are_clear_errors() -> None:
    adapter = TickerAdapter(Ticker())
    assert adapter_for(adapter) is adapter
    with pytest.raises(NoAdapterError, match=r"no adapter knows how to attach to builtins\.int"):
        adapter_for(42)
    with pytest.raises(ValueError, match=r"no adapter handles URLs like kafka://\.\.\..*redis://"):
        adapter_for("kafka://broker:9092")
    with pytest.raises(TypeError, match=r"not a bus URL"):
        adapter_for("localhost:6379")


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("redis://localhost", "redis", "redis"),
        ("nats://localhost", "nats", "nats"),
        ("mqtt://localhost", "paho.mqtt", "mqtt"),
        ("amqp://localhost", "pika", "amqp"),
    ],
)
def test_a_missing_client_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes ``import module`` fail
    with pytest.raises(MissingClientError, match=rf'pip install "pytest-eventrecorder\[{extra}\]"'):
        adapter_for(url)


def test_entry_point_plugins_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ticker_adapter.py").write_text(
        textwrap.dedent(
            """
            from pytest_eventrecorder.adapters import hookimpl

            class Clock:
                pass

            @hookimpl
            def eventrecorder_adapter_for(bus):
                from pytest_eventrecorder.adapters import MethodAdapter
                return MethodAdapter(bus, "tick", name_arg="name", event_arg="value",
                                     source_arg=None) if isinstance(bus, Clock) else None
            """
        )
    )
    dist = tmp_path / "ticker_adapter-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ticker-adapter\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nticker = ticker_adapter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin_manager.cache_clear()
    try:
        import ticker_adapter

        clock = ticker_adapter.Clock()
        clock.tick = lambda name, value: None
        assert adapter_for(clock).name == "method"
        assert plugin_manager().get_plugin("ticker") is ticker_adapter
    finally:
        plugin_manager.cache_clear()
        monkeypatch.delitem(sys.modules, "ticker_adapter", raising=False)


def test_a_conftest_can_register_an_adapter(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(
        """
        from pytest_eventrecorder.adapters import hookimpl, register, unregister

        class Gong:
            def __init__(self):
                self.hits = []

            def strike(self, sound):
                self.hits.append(sound)

        class GongPlugin:
            @hookimpl
            def eventrecorder_adapter_for(self, bus):
                from pytest_eventrecorder.adapters import MethodAdapter
                if isinstance(bus, Gong):
                    return MethodAdapter(bus, "strike", name_arg="sound", event_arg="sound",
                                         source_arg=None)
                return None

        PLUGIN = GongPlugin()

        def pytest_configure(config):
            register(PLUGIN)

        def pytest_unconfigure(config):
            unregister(PLUGIN)
        """
    )
    pytester.makepyfile(
        """
        from conftest import Gong
        from pytest_eventrecorder import EventRecorder

        def test_gong_is_recorded():
            gong = Gong()
            with EventRecorder("gong") as recorder:
                recorder.start_recording(gong)
                gong.strike("bong")
            assert [e.event_name for e in recorder.events] == ["bong"]
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:benchmark").assert_outcomes(passed=1)
    assert "GongPlugin" not in {type(p).__name__ for p in plugin_manager().get_plugins()}
