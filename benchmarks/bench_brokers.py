"""Real brokers on localhost: does recording keep up, and does replay keep time?

    python benchmarks/bench_brokers.py [--quick] [--broker redis --broker mqtt ...]

1. Sustained recording rate (target: ratio >= 0.8). A publisher process sends N messages
   as fast as the broker takes them; a plain client in another process and the recorder
   in this one (an EventRecorder streaming to a ``.jsonl`` file with ``keep_events=False``,
   as ``eventrecorder record`` does) consume the same stream at the same time. Each side's
   rate is (messages - 1) / (time from its first message to its last): for the recorder,
   from the first message's arrival to the moment the last one was written to the file
   (a recorder that receives fast but writes slowly does not keep up for long). Ratio =
   recorder / plain client; any message either side lacks is reported. The rate at which
   the recorder took messages off the wire is shown too. The plain MQTT client asks
   for the same Receive Maximum as the recorder (with paho's defaults it loses most of a
   QoS 1 burst at Mosquitto's default limits, and the ratio would mean nothing).
2. Replay timing at ``--speed 1`` (target: first event <= 1 ms late, every gap within
   1 ms), idle and with a busy loop on every CPU (other processes): events 5 ms apart;
   each event's lateness is when its publish call began, against the replay's own start
   anchor; the publish call's latency (until the broker answered) is shown beside it.
   The row "none" replays into nothing: the schedule alone, as the machine's scheduler
   allows it.
3. MQTT replay at ``--speed max`` of 2,000 events with mixed QoS 0/1/2, against the same
   events all at QoS 1 (no target; the mixed one took ~30 s before pipelining).

Needs Redis :6379, NATS :4222, Mosquitto :1883 (and ``mosquitto_pub``), RabbitMQ :5672.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_eventrecorder import EventRecorder, EventReplayer, RecordedEvent, read_cassette
from pytest_eventrecorder.adapters import adapter_for
from pytest_eventrecorder.clock import RealClock

RATIO_TARGET = 0.8
LATE_TARGET_MS = 1.0
QUIET_S = 3.0
"""A consumer that received nothing for this long has received all it will."""

PORTS = {"redis": 6379, "nats": 4222, "mqtt": 1883, "amqp": 5672}
URLS = {
    "redis": "redis://127.0.0.1:6379/0",
    "nats": "nats://127.0.0.1:4222",
    "mqtt": "mqtt://127.0.0.1:1883",
    "amqp": "amqp://guest:guest@127.0.0.1:5672/",
}

# ----------------------------------------------------------------------------- child code
# Publishers and plain consumers run as separate processes, so neither competes with the
# recorder for this process's interpreter lock. {channel} and {count} are filled in.

_CONSUMER_TAIL = """
import json, sys, time
def report(times):
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    print(json.dumps({"count": len(times), "span_s": span}), flush=True)
"""

CONSUMERS = {
    "redis": """
import redis
client = redis.Redis(port=6379)
pubsub = client.pubsub()
pubsub.subscribe("{channel}")
pubsub.get_message(timeout=5)
print("ready", flush=True)
times = []
while len(times) < {count}:
    m = pubsub.get_message(timeout={quiet})
    if m is None:
        break
    if m["type"] == "message":
        times.append(time.perf_counter())
report(times)
""",
    "nats": """
import asyncio, nats
async def main():
    nc = await nats.connect("nats://127.0.0.1:4222")
    times, done = [], asyncio.Event()
    async def on(msg):
        times.append(time.perf_counter())
        if len(times) >= {count}:
            done.set()
    await nc.subscribe("{channel}", cb=on, pending_msgs_limit=10_000_000)
    await nc.flush()
    print("ready", flush=True)
    seen = -1
    while not done.is_set() and seen != len(times):
        seen = len(times)
        try:
            await asyncio.wait_for(done.wait(), {quiet})
        except asyncio.TimeoutError:
            pass
    report(times)
    await nc.close()
asyncio.run(main())
""",
    "mqtt": """
import threading, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
times = []
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="plain-{channel}", protocol=mqtt.MQTTv5)
c.on_message = lambda _c, _u, _m: times.append(time.perf_counter())
subscribed = threading.Event()
c.on_subscribe = lambda *a: subscribed.set()
props = Properties(PacketTypes.CONNECT)
props.ReceiveMaximum = 65535
c.connect("127.0.0.1", 1883, properties=props)
c.loop_start()
c.subscribe("{channel}", qos=2)
subscribed.wait(10)
print("ready", flush=True)
seen = -1
while len(times) < {count} and seen != len(times):
    seen = len(times)
    time.sleep({quiet})
report(times)
c.disconnect()
c.loop_stop()
""",
    "amqp": """
import pika
connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/"))
channel = connection.channel()
queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
channel.queue_bind(queue, "amq.topic", routing_key="{channel}")
times = []
channel.basic_consume(queue, lambda *a: times.append(time.perf_counter()), auto_ack=True)
print("ready", flush=True)
seen = -1
while len(times) < {count}:
    connection.process_data_events(time_limit={quiet})
    if seen == len(times):
        break
    seen = len(times)
report(times)
connection.close()
""",
}

PUBLISHERS = {
    "redis": """
import redis
client = redis.Redis(port=6379)
pipe = client.pipeline(transaction=False)
for n in range({count}):
    pipe.publish("{channel}", str(n))
    if n % 500 == 499:
        pipe.execute()
pipe.execute()
""",
    "nats": """
import asyncio, nats
async def main():
    nc = await nats.connect("nats://127.0.0.1:4222")
    for n in range({count}):
        await nc.publish("{channel}", str(n).encode())
        if n % 500 == 499:
            await nc.flush()
    await nc.flush()
    await nc.close()
asyncio.run(main())
""",
    "amqp": """
import pika
connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/"))
channel = connection.channel()
for n in range({count}):
    channel.basic_publish("amq.topic", "{channel}", str(n).encode())
connection.close()
""",
}


def _python(code: str, **fields: object) -> list[str]:
    body = textwrap.dedent(code)
    for name, value in fields.items():
        body = body.replace("{" + name + "}", str(value))
    return [sys.executable, "-c", textwrap.dedent(_CONSUMER_TAIL) + body]


def _publish(broker: str, channel: str, count: int) -> None:
    if broker == "mqtt":
        numbers = "".join(f"{n}\n" for n in range(count))
        command = ["mosquitto_pub", "-h", "127.0.0.1", "-l", "-q", "1", "-t", channel]
        subprocess.run(command, input=numbers, text=True, check=True, timeout=300)
        return
    subprocess.run(_python(PUBLISHERS[broker], channel=channel, count=count), check=True)


# ----------------------------------------------------------------------------- 1. rates


@dataclass
class Rate:
    broker: str
    sent: int
    plain_count: int
    plain_rate: float
    recorded: int
    recorded_rate: float
    received_rate: float

    @property
    def ratio(self) -> float:
        return self.recorded_rate / self.plain_rate if self.plain_rate else 0.0


def _rate(count: int, span_s: float) -> float:
    return (count - 1) / span_s if count > 1 and span_s > 0 else 0.0


def measure_rate(broker: str, count: int, folder: Path) -> Rate:
    channel = f"bench{uuid.uuid4().hex[:10]}"
    plain = subprocess.Popen(
        _python(CONSUMERS[broker], channel=channel, count=count, quiet=QUIET_S),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert plain.stdout is not None
    if plain.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the plain {broker} consumer did not start")
    partial = folder / f"{broker}.partial.jsonl"
    recorder = EventRecorder(broker, folder, stream_to=partial, keep_events=False)
    recorder.start_recording(f"{URLS[broker]}?channel={channel}")
    try:
        _publish(broker, channel, count)
        written_ms = _wait_written(recorder, count)
    finally:
        recorder.halt()
    plain_result = json.loads(plain.communicate(timeout=120)[0].strip().splitlines()[-1])
    events = read_cassette(partial).events
    first = events[0].timestamp_offset_ms if events else 0.0
    received = (events[-1].timestamp_offset_ms - first) / 1e3 if events else 0.0
    return Rate(
        broker,
        count,
        plain_result["count"],
        _rate(plain_result["count"], plain_result["span_s"]),
        len(events),
        _rate(len(events), (written_ms - first) / 1e3),
        _rate(len(events), received),
    )


def _wait_written(recorder: EventRecorder, wanted: int) -> float:
    """The recorder's clock (ms) when ``wanted`` events were written, or when it stopped
    growing for QUIET_S. Polled every millisecond: the reading is at most that late."""
    seen, since = -1, time.monotonic()
    while (now := recorder.event_count) < wanted:
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since > QUIET_S:
            break
        time.sleep(0.001)
    return recorder.elapsed_ms


# ----------------------------------------------------------------------------- 2. timing


class AnchorClock(RealClock):
    """The real clock, remembering the replay's start anchor (its first reading)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchor: int | None = None

    def now_ns(self) -> int:
        now = super().now_ns()
        if self.anchor is None:
            self.anchor = now
        return now


@dataclass
class Timing:
    """Lateness (ms) of each event against the replay's start anchor, taken when its
    publish call began (the schedule) and when it returned (with the broker's answer)."""

    sent: list[float]
    returned: list[float]

    @property
    def gap_errors(self) -> list[float]:
        return [abs(b - a) for a, b in itertools.pairwise(self.sent)]

    @property
    def latencies(self) -> list[float]:
        return [r - s for s, r in zip(self.sent, self.returned, strict=True)]


def measure_timing(broker: str, count: int, runs: int) -> list[Timing]:
    return [_timing_once(broker, count) for _ in range(runs)]


def _timing_once(broker: str, count: int, gap_ms: float = 5.0) -> Timing:
    channel = f"bench{uuid.uuid4().hex[:10]}"
    events = [
        RecordedEvent(timestamp_offset_ms=n * gap_ms, event_name=channel, event_data=n)
        for n in range(count)
    ]
    clock = AnchorClock()
    replayer = EventReplayer.from_events(events)
    replayer.clock = clock
    adapter: Any = _NoBroker() if broker == NO_BROKER else adapter_for(URLS[broker])
    began: list[int] = []
    returned: list[int] = []
    publish = adapter.publish

    def timed(event: RecordedEvent, payload: object) -> object:
        began.append(clock.now_ns())
        outcome = publish(event, payload)
        returned.append(clock.now_ns())
        return outcome

    adapter.publish = timed
    try:
        replayer.replay(adapter, 1.0)
    finally:
        adapter.close()
    assert clock.anchor is not None
    anchor = clock.anchor

    def late(stamps: list[int]) -> list[float]:
        return [(t - anchor) / 1e6 - n * gap_ms for n, t in enumerate(stamps)]

    return Timing(late(began), late(returned))


NO_BROKER = "none"
"""The replay's own schedule, publishing nowhere: what the machine allows at all."""


class _NoBroker:
    name = NO_BROKER

    def publish(self, event: RecordedEvent, payload: object) -> None:
        pass

    def close(self) -> None:
        pass


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class CpuBurner:
    """Busy loops in other processes, one per CPU: the replay competes for every core."""

    def __init__(self) -> None:
        self.processes = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 1)
        ]

    def __enter__(self) -> CpuBurner:
        time.sleep(0.5)  # running flat out before the replay starts
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


# ----------------------------------------------------------------------------- 3. MQTT


def mqtt_replay_s(count: int, qos_of: Callable[[int], int]) -> float:
    topic = f"bench{uuid.uuid4().hex[:10]}"
    events = [
        RecordedEvent(
            timestamp_offset_ms=float(n),
            event_name=topic,
            event_data=n,
            metadata={"qos": qos_of(n), "retain": False},
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    EventReplayer.from_events(events).replay(URLS["mqtt"], math.inf)  # closes: acks checked
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- main


def _available(broker: str) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        reachable = sock.connect_ex(("127.0.0.1", PORTS[broker])) == 0
    return reachable and (broker != "mqtt" or shutil.which("mosquitto_pub") is not None)


def print_timing(brokers: list[str], events: int, runs: int) -> bool:
    print(
        f"\n2. Replay timing at --speed 1, {events} events 5 ms apart, {runs} replays each; "
        "lateness against the replay's start when each publish began (the schedule; gap "
        "error = |lateness - the previous event's|), and the publish call's own latency "
        "(until the broker answered: Redis reply, AMQP confirm; NATS/MQTT QoS 0 return "
        f"once written). Load average {_load()}"
    )
    print(
        "| broker | CPU burners | first event late, median / worst (ms) | gap error p50 / "
        "p99 / max (ms) | publish latency p50 / p99 (ms) | verdict |"
    )
    print("|---|---|---|---|---|---|")
    ok = True
    stalls = []
    for burning in (False, True):
        with CpuBurner() if burning else contextlib.nullcontext():
            stalls.append(machine_stalls())
        for broker in [NO_BROKER, *brokers]:
            with CpuBurner() if burning else contextlib.nullcontext():
                each = measure_timing(broker, events, runs)
            first = [t.sent[0] for t in each]
            gaps = [g for t in each for g in t.gap_errors]
            latency = [x for t in each for x in t.latencies]
            good = max(first) <= LATE_TARGET_MS and max(gaps) <= LATE_TARGET_MS
            ok = ok and good
            print(
                f"| {broker} | {os.cpu_count() if burning else 0} "
                f"| {statistics.median(first):.3f} / {max(first):.3f} "
                f"| {_percentile(gaps, 0.5):.3f} / {_percentile(gaps, 0.99):.3f} / "
                f"{max(gaps):.3f} | {_percentile(latency, 0.5):.3f} / "
                f"{_percentile(latency, 0.99):.3f} | {_verdict(good)} |"
            )
    (idle, idle_worst), (busy, busy_worst) = stalls
    print(
        f"A thread doing nothing but read the clock for {STALL_PROBE_S:g} s was held off the "
        f"CPU for over 1 ms {idle} times idle (longest {idle_worst:.1f} ms), {busy} times with "
        f"the busy loops (longest {busy_worst:.1f} ms): no schedule can be finer here"
    )
    return ok


STALL_PROBE_S = 2.0


def machine_stalls(seconds: float = STALL_PROBE_S) -> tuple[int, float]:
    """How often, and for how long at most (ms), a thread that only reads the clock does not
    run for over 1 ms: what the operating system allows any schedule at that moment."""
    counter = time.perf_counter_ns
    last = counter()
    end = last + round(seconds * 1e9)
    stalls, worst = 0, 0
    while last < end:
        now = counter()
        if now - last > 1_000_000:
            stalls, worst = stalls + 1, max(worst, now - last)
        last = now
    return stalls, worst / 1e6


def _verdict(ok: bool) -> str:
    return "pass" if ok else "FAIL"


PARTS = ("rates", "timing", "mqtt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--broker", action="append", choices=sorted(PORTS))
    parser.add_argument("--part", action="append", choices=PARTS, help="default: all")
    parser.add_argument("--runs", type=int, default=3, help="rate runs per broker (median)")
    args = parser.parse_args(argv)
    brokers = [b for b in (args.broker or sorted(PORTS)) if _available(b)]
    skipped = sorted(set(args.broker or PORTS) - set(brokers))
    if skipped:
        print(f"skipped (not reachable): {', '.join(skipped)}")
    parts = args.part or PARTS
    ok = True
    if "rates" in parts:
        ok = print_rates(brokers, 2_000 if args.quick else 50_000, args.runs) and ok
    if "timing" in parts:
        ok = print_timing(brokers, *((40, 3) if args.quick else (200, 5))) and ok
    if "mqtt" in parts and "mqtt" in brokers:
        mixed = mqtt_replay_s(2_000, lambda n: (n * 7 // 3) % 3)
        single = mqtt_replay_s(2_000, lambda n: 1)
        print("\n3. MQTT replay of 2,000 events at --speed max")
        print(
            f"mixed QoS 0/1/2: {mixed:.2f} s; all QoS 1: {single:.2f} s "
            f"(mixed / single: {mixed / single:.2f}x)"
        )
    return 0 if ok else 1


def print_rates(brokers: list[str], count: int, runs: int) -> bool:
    print(
        f"\n1. Sustained recording rate, {count:,} messages published as fast as possible "
        f"(the run with the median ratio of {runs}; load average {_load()})"
    )
    print(
        "| broker | plain client (msg/s) | recorder, written (msg/s) | ratio | recorder, "
        "received (msg/s) | lost | verdict |"
    )
    print("|---|---|---|---|---|---|---|")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        for broker in brokers:
            each = sorted(
                (measure_rate(broker, count, Path(folder)) for _ in range(runs)),
                key=lambda r: r.ratio,
            )
            r = each[len(each) // 2]
            lost = f"plain {count - r.plain_count}, recorder {count - r.recorded}"
            good = r.ratio >= RATIO_TARGET and all(e.recorded == count for e in each)
            ok = ok and good
            print(
                f"| {broker} | {r.plain_rate:,.0f} | {r.recorded_rate:,.0f} | {r.ratio:.2f} "
                f"| {r.received_rate:,.0f} | {lost} | {_verdict(good)} |"
            )
    return ok


def _load() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
