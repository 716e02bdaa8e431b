"""What the pytest plugin adds to a test that replays a 1,000-event cassette.

Runs one pytest session in this process with two interleaved, parametrised tests over the
same cassette (500 PriceTick inputs, 500 OrderPlaced outputs) and the same bus and bot:

- ``test_plugin``: ``@pytest.mark.event_cassette(inputs=["PriceTick"])`` + ``play()``
  (load, capture, replay, verify every output, teardown);
- ``test_bare``: ``EventReplayer(path).replay(bus, inf, where=...)``, nothing else.

Each test's CPU time (setup + call + teardown) is taken; the medians are compared.
Target: the plugin adds <= 20 ms. Usage: ``python benchmarks/bench_plugin.py [rounds]``.
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

TARGET_MS = 20.0
TICKS = 500

CONFTEST = f"""
    import pytest

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
        for i in range({TICKS}):
            bus.publish("PriceTick", {{"symbol": "BTC", "price": 100.0 + i / 10, "n": i}}, "feed")

    @pytest.fixture
    def service_bus():
        return ServiceBus()

    @pytest.fixture
    def bot(service_bus):
        return Bot(service_bus)
"""

TESTS = """
    import math
    import pytest
    from conftest import live_feed
    from pytest_eventrecorder import EventReplayer

    ROUNDS = range({rounds})

    @pytest.mark.parametrize("round_", ROUNDS)
    @pytest.mark.event_cassette("orders.json", inputs=["PriceTick"])
    def test_plugin(service_bus, bot, event_cassette, round_):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert bot.orders == {ticks}

    @pytest.mark.parametrize("round_", ROUNDS)
    def test_bare(service_bus, bot, event_cassette_dir, round_):
        replayer = EventReplayer(event_cassette_dir / "orders.json")
        replayer.replay(service_bus, math.inf, where=lambda e: e.event_name == "PriceTick")
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


def main(rounds: int = 25) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "conftest.py").write_text(textwrap.dedent(CONFTEST))
        tests = folder / "test_bench.py"
        tests.write_text(textwrap.dedent(TESTS.format(rounds=rounds, ticks=TICKS)))
        run_session(Path(f"{tests}::test_plugin[0]"), "--record-mode=once")  # records it
        times = run_session(folder, "--record-mode=none").by_test_ms()
    plugin, bare = statistics.median(times["test_plugin"]), statistics.median(times["test_bare"])
    added = plugin - bare
    best_added = min(times["test_plugin"]) - min(times["test_bare"])
    print(f"cassette: {2 * TICKS} events ({TICKS} inputs replayed, {TICKS} outputs verified)")
    print(f"bare EventReplayer test : {bare:8.2f} ms CPU (median of {rounds})")
    print(f"event_cassette test     : {plugin:8.2f} ms CPU (median of {rounds})")
    print(
        f"plugin adds             : {added:8.2f} ms median, {best_added:.2f} ms best-of "
        f"(ratio {plugin / bare:.2f}x; target <= {TARGET_MS:.0f} ms: "
        f"{'OK' if added <= TARGET_MS else 'OVER'})"
    )
    return 0 if added <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
