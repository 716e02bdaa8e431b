"""Recordings the browser tests browse: deterministic, varied, and one full of hostile payloads."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from pytest_eventrecorder.cassette import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette

XSS_SCRIPT = "<script>window.__xss = 'script'</script>"
XSS_IMG = "<img src=x onerror=\"window.__xss = 'img'\">"
XSS_SVG = "<svg onload=\"window.__xss = 'svg'\"></svg>"
TRADING = "trading_session.json"
TRADING_RERUN = "trading_session_rerun.json"
REPLAY = "replay_demo.jsonl"
XSS = "xss_payloads.json"
BROKEN = "broken.json"
EMPTY = "empty_session.json"
SENSORS = "sensor_feed.yaml.gz"
MODULE_CASSETTE = "test_bot/test_orders[BTC].json"
"""Where the pytest plugin puts a cassette: a folder per test module."""
SENSOR_KINDS = 20

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def _market(rng: random.Random, t: float, price: float) -> RecordedEvent:
    spread = round(rng.uniform(0.5, 3.0), 2)
    return RecordedEvent(
        timestamp_offset_ms=round(t, 1),
        event_name="MarketDataReceived",
        event_data={
            "symbol": rng.choice(SYMBOLS),
            "price": round(price, 2),
            "volume": round(rng.uniform(0.1, 40.0), 3),
            "book": {"bid": round(price - spread, 2), "ask": round(price + spread, 2)},
        },
        source="MarketDataAgent",
    )


def _trade_burst(rng: random.Random, t: float, price: float, n: int) -> list[RecordedEvent]:
    side = rng.choice(("buy", "sell"))
    order = {"id": f"ord-{n:04d}", "side": side, "size": round(rng.uniform(0.01, 0.5), 3)}
    steps = [
        (
            "SignalGenerated",
            "StrategyEngine",
            {"strategy": "momentum", "symbol": "BTC/USDT", "strength": round(rng.random(), 3)},
        ),
        ("RiskCheckPassed", "RiskManager", {"order": order, "exposure": round(rng.random(), 2)}),
        (
            "OrderPlaced",
            "TradingBot",
            {"order": {**order, "price": round(price, 2)}, "tags": ["auto"]},
        ),
        (
            "OrderFilled",
            "OrderRouter",
            {
                "order": {**order, "fill_price": round(price + rng.uniform(-2, 2), 2)},
                "venue": "SIM",
            },
        ),
        (
            "PositionOpened",
            "TradingBot",
            {"symbol": "BTC/USDT", "side": side, "size": order["size"]},
        ),
    ]
    return [
        RecordedEvent(round(t + 12.5 * i, 1), name, data, source=source)
        for i, (name, source, data) in enumerate(steps)
    ]


def trading_events(seed: int = 7, seconds: int = 60) -> list[RecordedEvent]:
    rng = random.Random(seed)
    events: list[RecordedEvent] = []
    price = 67500.0
    t = 0.0
    while t < seconds * 1000:
        price += rng.gauss(0, 12)
        events.append(_market(rng, t, price))
        if rng.random() < 0.08:
            events.extend(_trade_burst(rng, t + 40, price, len(events)))
        if rng.random() < 0.02:
            events.append(
                RecordedEvent(
                    round(t + 90, 1),
                    "RiskLimitWarning",
                    {"limit": "max_exposure", "value": 0.93},
                    source="RiskManager",
                )
            )
        t += rng.uniform(80, 220)
    return sorted(events, key=lambda e: e.timestamp_offset_ms)


def _rerun(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """The same session with a few drifted prices, one event lost, one extra and two
    orders swapped."""
    out = list(events)
    orders = [i for i, e in enumerate(out) if e.event_name == "MarketDataReceived"][50:52]
    first, second = out[orders[0]], out[orders[1]]
    out[orders[0]] = dataclasses.replace(second, timestamp_offset_ms=first.timestamp_offset_ms)
    out[orders[1]] = dataclasses.replace(first, timestamp_offset_ms=second.timestamp_offset_ms)
    priced = [i for i, e in enumerate(out) if e.event_name == "MarketDataReceived"]
    for i in (priced[3], priced[11], priced[40]):
        e = out[i]
        out[i] = RecordedEvent(
            e.timestamp_offset_ms,
            e.event_name,
            {**e.event_data, "price": e.event_data["price"] + 1.5},
            e.source,
        )
    del out[25]
    out.insert(
        60, RecordedEvent(out[59].timestamp_offset_ms + 1, "Heartbeat", {"ok": True}, "Monitor")
    )
    return out


def xss_events() -> list[RecordedEvent]:
    return [
        RecordedEvent(
            0, "UserComment", {"comment": XSS_SCRIPT, "author": XSS_IMG}, source="WebGateway"
        ),
        RecordedEvent(
            150,
            XSS_IMG,
            {XSS_SCRIPT: XSS_SVG, "nested": {"html": [XSS_IMG, XSS_SCRIPT]}},
            source=XSS_SVG,
        ),
        RecordedEvent(
            300,
            "Plain",
            {"note": "nothing to see"},
            source="WebGateway",
            metadata={"trace": XSS_SCRIPT},
        ),
    ]


def write_sample_recordings(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    start = "2025-10-17T10:00:00.000Z"
    trading = trading_events()
    write_cassette(folder / TRADING, Cassette.build("bull_run_2025", trading, start_time=start))
    write_cassette(
        folder / TRADING_RERUN,
        Cassette.build(
            "bull_run_2025_rerun", _rerun(trading), start_time="2025-10-18T09:30:00.000Z"
        ),
    )
    replay = [RecordedEvent(100.0 * i, "Tick", {"n": i}, source="Clock") for i in range(150)]
    write_cassette(
        folder / REPLAY,
        Cassette.build("replay_demo", replay, start_time="2025-11-02T14:05:00.000Z"),
    )
    write_cassette(
        folder / XSS,
        Cassette.build(XSS_SCRIPT, xss_events(), start_time="2025-09-01T08:00:00.000Z"),
    )
    sensors = [  # twenty kinds of reading: more lanes than the timeline draws one by one
        RecordedEvent(
            500.0 * i,
            f"Sensor{i % SENSOR_KINDS:02d}Reading",
            {"celsius": 20 + i % 5},
            f"probe-{i % 3}",
        )
        for i in range(80)
    ]
    write_cassette(
        folder / SENSORS,
        Cassette.build("sensor_feed", sensors, start_time="2024-12-24T18:00:00.000Z"),
    )
    write_cassette(folder / EMPTY, Cassette.build("empty_session", [], start_time=start))
    orders = [
        RecordedEvent(0.5, "PriceTick", {"symbol": "BTC", "price": 99.0}, "feed"),
        RecordedEvent(0.6, "OrderPlaced", {"symbol": "BTC", "qty": 1}, "bot"),
    ]
    (folder / MODULE_CASSETTE).parent.mkdir()
    write_cassette(folder / MODULE_CASSETTE, Cassette.build("test_orders[BTC]", orders))
    (folder / BROKEN).write_text('{"session_name": "half written", "events": [', encoding="utf-8")
