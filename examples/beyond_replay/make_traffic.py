"""Write recordings/prod.jsonl: production-style traffic (orders and deposits), in which one
sequence of three events (order 7 opened, closed, then filled) corrupts the book.

    python make_traffic.py [--events 2000]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from pytest_eventrecorder import Cassette, RecordedEvent, write_cassette


def traffic(size: int) -> list[RecordedEvent]:
    rng = random.Random(7)
    events = []
    for n in range(size):
        name = rng.choice(["Open", "Fill", "Fill", "Deposit", "Heartbeat"])
        source = {"Deposit": "bank", "Heartbeat": "monitor"}.get(name, "exchange")
        data = {"id": rng.randrange(100, 999)}
        if name == "Deposit":
            data["amount"] = rng.randrange(1, 100)
        events.append(RecordedEvent(float(n), name, data, source))
    for at, name in ((size // 6, "Open"), (size // 2, "Close"), (size - size // 6, "Fill")):
        events[at] = RecordedEvent(float(at), name, {"id": 7}, "exchange")
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    path = Path("recordings/prod.jsonl")
    path.parent.mkdir(exist_ok=True)
    write_cassette(path, Cassette.build("prod", traffic(args.events)))
    print(f"wrote {args.events:,} events to {path}")


if __name__ == "__main__":
    main()
