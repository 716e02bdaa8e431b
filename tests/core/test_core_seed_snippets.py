"""Every EventRecorder/EventReplayer snippet of the seed runs as written.

The snippets below are the seed's, verbatim, in the seed's order; the only change made to
them is the import (``python_pubsub_devtools.event_recorder`` becomes
``pytest_eventrecorder``) and each ``# ... bot runs ...`` placeholder becomes a call that
really publishes a few trading events. They run one after the other in one namespace, as a
reader following the document would, in a fresh working directory. Files a snippet expects
to exist already (``recordings/bull_run_2025_20251017.json``...) are put there first.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from core_helpers import ServiceBus

from pytest_eventrecorder import EventRecorder

SNIPPETS: list[tuple[str, str]] = [
    (
        "recorder usage",
        """
from python_pubsub_devtools.event_recorder import EventRecorder

# Create recorder
recorder = EventRecorder(
    session_name="bull_run_2025",
    output_dir="recordings"
)

# Start recording
recorder.start_recording(service_bus)

# ... your bot runs and publishes events ...

# Stop and save
recorder.stop_recording()
recording_path = recorder.save()
print(f"Recording saved to: {recording_path}")
""",
    ),
    (
        "context manager",
        """
with EventRecorder("my_session", "recordings") as recorder:
    recorder.start_recording(service_bus)
    # ... bot runs ...
    recorder.save()
# Automatically stops recording on exit
""",
    ),
    (
        "replayer usage",
        """
from python_pubsub_devtools.event_recorder import EventReplayer

# Load recording
replayer = EventReplayer("recordings/bull_run_2025_20251017.json")

# Replay at 10x speed
replayer.replay(
    service_bus,
    speed_multiplier=10.0,
    events_module_name="my_project.events"  # For event reconstruction
)

# Replay with filter (only market data events)
replayer.replay(
    service_bus,
    event_filter=lambda name: name.startswith("MarketData")
)

# Replay with progress callback
def progress(current, total):
    print(f"Progress: {current}/{total} ({current/total*100:.1f}%)")

replayer.replay(service_bus, progress_callback=progress)
""",
    ),
    (
        "analysis methods",
        """
# Get event summary
summary = replayer.get_event_summary()
for event_name, count in summary.items():
    print(f"{event_name}: {count}x")

# Print timeline
replayer.print_timeline(max_events=50)

# Filter events
filtered = replayer.filter_events(
    lambda name: "Failed" in name or "Error" in name
)
filtered.replay(service_bus)
""",
    ),
    (
        "cli record events",
        """
# In your bot code
from python_pubsub_devtools.event_recorder import EventRecorder

recorder = EventRecorder("production_issue_123", "recordings")
recorder.start_recording(service_bus)

# ... bot runs ...

recorder.stop_recording()
recorder.save()
""",
    ),
    (
        "cli replay events",
        """
from python_pubsub_devtools.event_recorder import EventReplayer

replayer = EventReplayer("recordings/production_issue_123.json")
replayer.replay(service_bus, speed_multiplier=1.0)
""",
    ),
    (
        "bug reproduction",
        """
# Record production issue
recorder = EventRecorder("bug_position_not_closing", "recordings")
recorder.start_recording(service_bus)
# ... issue occurs ...
recorder.stop_recording()
recorder.save()

# Later, replay to reproduce
replayer = EventReplayer("recordings/bug_position_not_closing_*.json")
replayer.replay(service_bus)  # Bug should reproduce
""",
    ),
    (
        "performance testing",
        """
replayer = EventReplayer("recordings/normal_trading_day.json")
# Replay 24 hours of events in 2.4 hours (10x speed)
replayer.replay(service_bus, speed_multiplier=10.0)
""",
    ),
    (
        "edge case testing",
        """
# Only replay failed trades
replayer = EventReplayer("recordings/trading_session.json")
filtered = replayer.filter_events(lambda name: "Failed" in name)
filtered.replay(service_bus)
""",
    ),
    (
        "integration testing",
        """
# Record real market behavior
recorder = EventRecorder("btc_volatility_spike", "test_data")
recorder.start_recording(service_bus)
# ... capture volatile market conditions ...
recorder.save()

# Use in tests
def test_volatility_handling():
    replayer = EventReplayer("test_data/btc_volatility_spike.json")
    replayer.replay(test_service_bus)
    # Assert expected behavior
""",
    ),
    (
        "training data collection",
        """
recorder = EventRecorder("profitable_session_2025_10_17", "recordings")
recorder.start_recording(service_bus)
# ... profitable trading session ...
recorder.stop_recording()
recorder.save()

# Later, analyze what worked
replayer = EventReplayer("recordings/profitable_session_2025_10_17.json")
summary = replayer.get_event_summary()
replayer.print_timeline()
""",
    ),
    (
        "best practice: event reconstruction",
        """
   # With event classes
   replayer.replay(
       service_bus,
       events_module_name="my_project.events"
   )

   # Without - events are replayed as dicts
   replayer.replay(service_bus)
""",
    ),
    (
        "best practice: testing",
        """
   def test_market_crash_handling():
       replayer = EventReplayer("test_data/market_crash_2020.json")
       replayer.replay(test_service_bus)
       assert bot.position_closed
       assert bot.loss < max_acceptable_loss
""",
    ),
    (
        "troubleshooting: events not recording",
        """
recorder = EventRecorder("session", "recordings")
recorder.start_recording(service_bus)  # Must be before events
# ... now events will be recorded ...
""",
    ),
    (
        "troubleshooting: events not reconstructed",
        """
# Wrong - events are dicts
replayer.replay(service_bus)

# Correct - events are proper objects
replayer.replay(service_bus, events_module_name="my_project.events")
""",
    ),
]

EVENTS_MODULE = """
from dataclasses import dataclass


@dataclass
class MarketDataReceived:
    symbol: str
    price: float
    volume: float


@dataclass
class PositionOpened:
    symbol: str
    side: str
    size: float


@dataclass
class OrderFailed:
    symbol: str
    reason: str


@dataclass
class PositionClosed:
    symbol: str
    pnl: float
"""

PLACEHOLDER = re.compile(r"^(\s*)# \.\.\. .* \.\.\.$", re.MULTILINE)


def prepared(code: str) -> str:
    code = textwrap.dedent(code).replace(
        "python_pubsub_devtools.event_recorder", "pytest_eventrecorder"
    )
    return PLACEHOLDER.sub(r"\1bot_runs()", code)


@dataclasses.dataclass
class Bot:
    position_closed: bool = False
    loss: float = 0.0

    def on_close(self, event: Any) -> None:
        self.position_closed = True
        pnl = event.pnl if hasattr(event, "pnl") else event["pnl"]
        self.loss = max(self.loss, -pnl)


class World:
    """What the snippets take for granted: a bus, a bot, an events module, older recordings."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        package = root / "src" / "my_project"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "events.py").write_text(EVENTS_MODULE)
        monkeypatch.syspath_prepend(str(root / "src"))
        monkeypatch.chdir(root)
        self.service_bus = ServiceBus()
        self.test_service_bus = ServiceBus()
        self.bot = Bot()
        self.test_service_bus.subscribe("PositionClosed", self.bot.on_close)

    def bot_runs(self) -> None:
        from my_project import events  # type: ignore[import-not-found]

        bus = self.service_bus
        bus.publish(
            "MarketDataReceived",
            events.MarketDataReceived("BTC/USDT", 67500.0, 1234.56),
            "MarketDataAgent",
        )
        bus.publish("PositionOpened", events.PositionOpened("BTC/USDT", "buy", 0.1), "TradingBot")
        bus.publish(
            "OrderFailed", events.OrderFailed("ETH/USDT", "insufficient margin"), "TradingBot"
        )
        bus.publish(
            "MarketDataReceived",
            events.MarketDataReceived("BTC/USDT", 60000.0, 99.0),
            "MarketDataAgent",
        )
        bus.publish("PositionClosed", events.PositionClosed("BTC/USDT", -750.0), "TradingBot")

    def record_file(self, name: str) -> None:
        with EventRecorder(name) as recorder:
            recorder.start_recording(self.service_bus)
            self.bot_runs()
        recorder.save(self.root / name)


NEEDS: dict[str, list[str]] = {
    "replayer usage": ["recordings/bull_run_2025_20251017.json"],
    "cli replay events": ["recordings/production_issue_123.json"],
    "performance testing": ["recordings/normal_trading_day.json"],
    "edge case testing": ["recordings/trading_session.json"],
    "integration testing": ["test_data/btc_volatility_spike.json"],
    "training data collection": ["recordings/profitable_session_2025_10_17.json"],
    "best practice: testing": ["test_data/market_crash_2020.json"],
}
"""Recordings a snippet opens by a name that ``save()`` (which adds a timestamp) never gives."""

TEST_FUNCTIONS = {
    "integration testing": "test_volatility_handling",
    "best practice: testing": "test_market_crash_handling",
}


def test_every_seed_snippet_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World(tmp_path, monkeypatch)
    namespace: dict[str, Any] = {
        "service_bus": world.service_bus,
        "test_service_bus": world.test_service_bus,
        "bot": world.bot,
        "max_acceptable_loss": 1_000.0,
        "bot_runs": world.bot_runs,
    }
    for name, code in SNIPPETS:
        for needed in NEEDS.get(name, []):
            world.record_file(needed)
        exec(compile(prepared(code), f"<seed: {name}>", "exec"), namespace)
        if name in TEST_FUNCTIONS:
            namespace[TEST_FUNCTIONS[name]]()

    out = capsys.readouterr().out
    assert re.search(r"Recording saved to: recordings/bull_run_2025_\d{8}_\d{6}\.json", out)
    assert "Progress: 5/5 (100.0%)" in out
    assert "MarketDataReceived: 2x" in out
    assert "Timeline of 'recordings/profitable_session_2025_10_17.json'" in out
    assert world.bot.position_closed
    assert world.bot.loss == 750.0
    from my_project import events

    rebuilt = [e for _, e, _ in world.service_bus.published if isinstance(e, events.OrderFailed)]
    assert rebuilt, "events_module_name rebuilt no typed events"
    saved = {p.name.rsplit("_", 2)[0] for p in Path("recordings").glob("*_*_*.json")}
    assert {"bull_run_2025", "my_session", "production_issue_123"} <= saved
