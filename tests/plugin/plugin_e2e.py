"""Shared pieces of the end-to-end tests: the inner project's files and small helpers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

BUSAPP = '''
    """A tiny in-process bus and a bot that buys when the price dips below 100."""
    import asyncio
    import os
    from pathlib import Path


    class ServiceBus:
        def __init__(self):
            self.handlers = {}

        def subscribe(self, name, handler):
            self.handlers.setdefault(name, []).append(handler)

        def publish(self, event_name, event, source=None):
            for handler in list(self.handlers.get(event_name, [])):
                handler(event)


    class AsyncBus(ServiceBus):
        async def publish(self, event_name, event, source=None):
            for handler in list(self.handlers.get(event_name, [])):
                await handler(event)


    class Bot:
        def __init__(self, bus):
            self.bus = bus
            self.orders = []
            self.prices = []
            bus.subscribe("PriceTick", self.on_tick)

        def decide(self, tick):
            limit = float(os.environ.get("BOT_LIMIT", "100"))
            if tick["price"] >= limit:
                return None
            order_id = f"{os.environ.get('BOT_ID_PREFIX', 'o')}-{len(self.orders)}"
            return {"symbol": tick["symbol"], "price": tick["price"], "qty": 1,
                    "api_key": "s3cr3t", "order_id": order_id,
                    "meta": {"host": os.environ.get("BOT_HOST", "a")}}

        def on_tick(self, tick):
            self.prices.append(tick["price"])
            order = self.decide(tick)
            if order is not None:
                self.orders.append(order)
                self.bus.publish("OrderPlaced", order, "bot")


    class AsyncBot(Bot):
        async def on_tick(self, tick):
            await asyncio.sleep(0)
            order = self.decide(tick)
            if order is not None:
                self.orders.append(order)
                await self.bus.publish("OrderPlaced", order, "bot")


    PRICES = (101.0, 99.0, 98.5, 102.0)


    def note_live_call():
        with open(Path.cwd() / "live_calls.txt", "a") as out:
            out.write("live\\n")


    def live_feed(bus):
        note_live_call()
        for i, price in enumerate(PRICES):
            bus.publish("PriceTick", {"symbol": "X", "price": price, "ts": i}, "feed")


    async def live_feed_async(bus):
        note_live_call()
        for i, price in enumerate(PRICES):
            await bus.publish("PriceTick", {"symbol": "X", "price": price, "ts": i}, "feed")
'''

CONFTEST = """
    import pytest
    from busapp import Bot, ServiceBus


    @pytest.fixture
    def service_bus():
        return ServiceBus()


    @pytest.fixture
    def bot(service_bus):
        return Bot(service_bus)
"""


def conftest_with(extra: str) -> str:
    """The project's conftest (bus and bot fixtures) followed by ``extra`` (hooks)."""
    return textwrap.dedent(CONFTEST) + textwrap.dedent(extra)


BOT_TEST = """
    import pytest
    from busapp import live_feed


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_bot_orders(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
        assert len(bot.orders) == 2
"""

Runner = Callable[..., pytest.RunResult]

QUIET_SUBPROCESS = tuple(
    arg
    for name in ("cacheprovider", "schemathesis", "hypothesispytest", "benchmark", "anyio")
    for arg in ("-p", f"no:{name}")
)
"""Plugins a subprocess session need not load: importing them costs seconds per xdist worker."""


def project_files(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with the bus, the bot and their fixtures."""
    pytester.makepyfile(busapp=textwrap.dedent(BUSAPP), conftest=textwrap.dedent(CONFTEST))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def write_test(pytester: pytest.Pytester, body: str, name: str = "test_bot") -> Path:
    return pytester.makepyfile(**{name: textwrap.dedent(body)})


def live_calls(pytester: pytest.Pytester) -> int:
    path = pytester.path / "live_calls.txt"
    return len(path.read_text().splitlines()) if path.exists() else 0


def cassette_file(pytester: pytest.Pytester, test: str, module: str = "test_bot") -> Path:
    return pytester.path / "cassettes" / module / f"{test}.json"


def inprocess(pytester: pytest.Pytester) -> Runner:
    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)

    return run
