"""What the pytest plugin adds to a test that replays a cassette and verifies its outputs.

For each cassette size (1,000, 10,000 and 100,000 events: half PriceTick inputs, half
OrderPlaced outputs) one pytest session runs, in this process, two interleaved,
parametrised tests over the same cassette, bus and bot:

- ``test_plugin``: ``@pytest.mark.event_cassette(inputs=["PriceTick"])`` + ``play()``
  (load in setup, capture, replay, verify every output, teardown), each round over its own
  copy of the cassette, as a suite's tests each have theirs (the targets are on this one);
- ``test_plugin_shared``: the same, every round replaying one cassette, which the session
  keeps parsed between tests while none changes it (shown, no target);
- ``test_by_hand``: the same test written by hand, the limit: ``json.loads`` of the
  cassette, a wrapped ``publish`` that captures the outputs, the inputs published in a
  loop, the outputs compared with the recorded ones (``==`` on name and data);
- ``test_by_hand_replayer``: the same, but ``EventReplayer`` loads and replays the cassette
  (shown, no target: what loading and replaying through the library cost on their own).

Each test's CPU time (setup + call + teardown) is taken; the medians are compared.
Targets: the plugin adds <= 3 ms to the test by hand at 1,000 events, and costs <= 5x
the test by hand at 100,000. Usage: ``python benchmarks/bench_plugin.py [rounds at 1,000 events]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from collections.abc import Generator
from pathlib import Path

import pytest

ADDED_MS_TARGET = 3.0
"""At 1,000 events: plugin test minus the test by hand."""
RATIO_TARGET = 5.0
"""At 100,000 events: plugin test / the test by hand."""
SIZES = (1_000, 10_000, 100_000)

TESTS = """
    import json
    import math
    import pytest
    from pytest_eventrecorder import EventReplayer

    ROUNDS = range({rounds})
    INPUTS = ["PriceTick"]

    class ServiceBus:
        def __init__(self):
            self.handlers = {{}}

        def subscribe(self, name, handler):
            self.handlers.setdefault(name, []).append(handler)

        def publish(self, event_name, event, source=None):
            for handler in self.handlers.get(event_name, ()):
                handler(event)

    class Bot:
        def __init__(self, bus):
            self.bus = bus
            self.orders = 0
            bus.subscribe("PriceTick", self.on_tick)

        def on_tick(self, tick):
            self.orders += 1
            order = {{"symbol": tick["symbol"], "price": tick["price"], "qty": 1}}
            self.bus.publish("OrderPlaced", order, "bot")

    def live_feed(bus):
        for i in range({ticks}):
            bus.publish("PriceTick", {{"symbol": "BTC", "price": 100.0 + i / 10, "n": i}}, "feed")

    @pytest.fixture
    def service_bus():
        return ServiceBus()

    @pytest.fixture
    def bot(service_bus):
        return Bot(service_bus)

    @pytest.mark.parametrize("round_", ROUNDS)
    @pytest.mark.event_cassette("orders.json", inputs=["PriceTick"])
    def test_plugin_shared(service_bus, bot, event_cassette, round_):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert bot.orders == {ticks}

    @pytest.mark.parametrize(
        "round_",
        [
            pytest.param(r, marks=pytest.mark.event_cassette(f"orders_{{r}}.json", inputs=INPUTS))
            for r in ROUNDS
        ],
    )
    def test_plugin(service_bus, bot, event_cassette, round_):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert bot.orders == {ticks}

    @pytest.mark.parametrize("round_", ROUNDS)
    def test_by_hand(service_bus, bot, event_cassette_dir, round_):
        events = json.loads((event_cassette_dir / "orders.json").read_bytes())["events"]
        outputs, publish = [], service_bus.publish

        def capture(event_name, event, source=None):
            if event_name != "PriceTick":
                outputs.append((event_name, event))
            publish(event_name, event, source)

        service_bus.publish = capture
        for e in events:
            if e["event_name"] == "PriceTick":
                service_bus.publish(e["event_name"], e["event_data"], e["source"])
        expected = [(e["event_name"], e["event_data"]) for e in events]
        expected = [e for e in expected if e[0] != "PriceTick"]
        assert outputs == expected
        assert bot.orders == {ticks}

    @pytest.mark.parametrize("round_", ROUNDS)
    def test_by_hand_replayer(service_bus, bot, event_cassette_dir, round_):
        replayer = EventReplayer(event_cassette_dir / "orders.json")
        outputs, publish = [], service_bus.publish

        def capture(event_name, event, source=None):
            if event_name != "PriceTick":
                outputs.append((event_name, event))
            publish(event_name, event, source)

        service_bus.publish = capture
        replayer.replay(service_bus, math.inf, where=lambda e: e.event_name == "PriceTick")
        expected = [(e.event_name, e.event_data) for e in replayer if e.event_name != "PriceTick"]
        assert outputs == expected
        assert bot.orders == {ticks}
"""


class Timings:
    """CPU seconds per test (setup + call + teardown): wall time on a shared, busy machine
    would mostly measure the neighbours; the replay is instant, so nothing sleeps."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.failed: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        began = time.process_time()
        try:
            return (yield)
        finally:
            self.seconds[item.nodeid] = time.process_time() - began

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)

    def by_test_ms(self) -> dict[str, list[float]]:
        by_kind: defaultdict[str, list[float]] = defaultdict(list)
        for nodeid, seconds in self.seconds.items():
            by_kind[nodeid.split("::")[1].split("[")[0]].append(seconds * 1000)
        return by_kind


def run_session(folder: Path, *args: str) -> Timings:
    timings = Timings()
    code = pytest.main([str(folder), "-q", "-p", "no:cacheprovider", *args], plugins=[timings])
    if code != 0 or timings.failed:
        raise SystemExit(f"inner session failed ({code}): {timings.failed}")
    return timings


def measure(events: int, rounds: int) -> dict[str, float]:
    """Median CPU ms of each test over a cassette of ``events``."""
    ticks = events // 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        tests = folder / f"test_bench_{events}.py"  # one module name per in-process session
        tests.write_text(textwrap.dedent(TESTS.format(rounds=rounds, ticks=ticks)))
        run_session(Path(f"{tests}::test_plugin_shared[0]"), "--record-mode=once")  # records it
        recorded = folder / "cassettes" / tests.stem / "orders.json"
        for r in range(rounds):  # each round of test_plugin reads a file of its own
            (recorded.parent / f"orders_{r}.json").write_bytes(recorded.read_bytes())
        times = run_session(folder, "--record-mode=none").by_test_ms()
    return {test: statistics.median(ms) for test, ms in times.items()}


def main(rounds: int = 25) -> int:
    results = {n: measure(n, max(3, rounds * 1_000 // n)) for n in SIZES}
    print(f"\nCPU ms per test, medians ({rounds} rounds at 1,000 events, fewer above)")
    print(
        f"{'events':>8} {'by hand':>9} {'by hand, EventReplayer':>23} {'plugin':>9} {'added':>9}"
        f"  {'plugin, shared cassette':>24}"
    )
    for n, ms in results.items():
        plugin, by_hand, shared = ms["test_plugin"], ms["test_by_hand"], ms["test_plugin_shared"]
        print(
            f"{n:>8,} {by_hand:>9.2f} {ms['test_by_hand_replayer']:>23.2f} {plugin:>9.2f} "
            f"{plugin - by_hand:>9.2f}  ({plugin / by_hand:.1f}x) {shared:>15.2f} "
            f"(adds {shared - by_hand:.2f})"
        )
    added = results[1_000]["test_plugin"] - results[1_000]["test_by_hand"]
    ratio = results[100_000]["test_plugin"] / results[100_000]["test_by_hand"]
    added_ok, ratio_ok = added <= ADDED_MS_TARGET, ratio <= RATIO_TARGET
    print(
        f"1,000 events: the plugin adds {added:.2f} ms to the test by hand "
        f"(target <= {ADDED_MS_TARGET:g} ms: {'OK' if added_ok else 'OVER'})"
    )
    print(
        f"100,000 events: the plugin test costs {ratio:.1f}x the test by hand "
        f"(target <= {RATIO_TARGET:g}x: {'OK' if ratio_ok else 'OVER'})"
    )
    return 0 if added_ok and ratio_ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
