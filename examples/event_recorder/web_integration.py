"""Using the dashboard's REST API: record through it, list, filter, save a selection, replay, diff.

By default it starts a dashboard of its own (in a thread, on a free port, over a temporary
recordings folder), so it runs anywhere:

    python examples/event_recorder/web_integration.py

Point it at a running dashboard instead (``eventrecorder serve``) with ``--url``:

    python examples/event_recorder/web_integration.py --url http://127.0.0.1:5556 [--token T]

Only the standard library talks to the API, as any other client could.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from pytest_eventrecorder import EventRecorderConfig, EventRecorderServer


class Api:
    """A tiny JSON client for ``/api`` (errors raise with the server's message)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
        url = f"{self.base_url}/api{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            message = json.load(exc).get("error", exc.reason)
            raise RuntimeError(f"{method} {path}: {exc.code} {message}") from None

    def get(self, path: str, **query: Any) -> Any:
        return self.call("GET", path, **query)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, body)


def record(api: Api) -> str:
    """Record a short trading session through the API; returns its file name."""
    api.post("/record/start", {"session_name": "web demo"})
    prices = [67500.0, 67520.5, 67480.0, 67610.25, 67590.0]
    for i, price in enumerate(prices):
        api.post(
            "/record/event",
            {
                "event_name": "MarketDataReceived",
                "source": "MarketDataAgent",
                "event_data": {"symbol": "BTC/USDT", "price": price},
            },
        )
        if i % 2:
            api.post(
                "/record/event",
                {
                    "event_name": "OrderPlaced",
                    "source": "TradingBot",
                    "event_data": {
                        "symbol": "BTC/USDT",
                        "side": "buy",
                        "size": 0.1,
                        "order": {"id": f"o-{i}"},
                    },
                },
            )
        time.sleep(0.01)
    stopped = api.post("/record/stop")
    print(f"recorded {stopped['total_events']} events into {stopped['filename']}")
    return str(stopped["filename"])


def browse(api: Api, filename: str) -> list[int]:
    """List recordings, look at one, filter its events; returns the orders' indices."""
    listing = api.get("/recordings", sort="date")
    for entry in listing["recordings"]:
        print(f"  {entry['filename']:<28} {entry['total_events']!s:>4} events")
    details = api.get(f"/recording/{filename}")
    print(f"{filename}: {details['event_summary']} from {list(details['source_summary'])}")
    fields = api.get(f"/recording/{filename}/fields")
    print(f"filterable fields: {', '.join(fields['fields'])}")
    orders = api.get(f"/recording/{filename}/events", event_name="OrderPlaced")
    pricey = api.get(f"/recording/{filename}/events", q="6761")
    by_id = api.get(f"/recording/{filename}/events", field="order.id", value="o-3")
    print(
        f"{orders['total']} orders; {pricey['total']} event(s) mention 6761; "
        f"order o-3 is event {by_id['events'][0]['index']}"
    )
    return [event["index"] for event in orders["events"]]


def replay(api: Api, filename: str) -> None:
    """Replay at 10x (a simulation on the server) and follow its progress."""
    status = api.post(f"/replay/start/{filename}", {"speed": 10.0})
    while status["status"] in ("playing", "paused"):
        time.sleep(0.02)
        status = api.get("/replay/status")
    print(f"replay {status['status']}: {status['position']}/{status['total']} events")


def run(api: Api) -> None:
    filename = record(api)
    order_indices = browse(api, filename)
    created = api.post(
        "/recording/create",
        {
            "source_filename": filename,
            "event_indices": order_indices,
            "new_session_name": "web demo orders",
        },
    )
    print(f"saved the orders as {created['filename']} ({created['total_events']} events)")
    replay(api, created["filename"])
    diff = api.get("/diff", a=filename, b=created["filename"])
    kinds = sorted({d["kind"] for d in diff["differences"]})
    print(f"diff: equal={diff['equal']}, {diff['total_differences']} differences ({kinds})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Drive the dashboard's REST API.")
    parser.add_argument("--url", help="a running dashboard (default: start one here)")
    parser.add_argument("--token", help="the dashboard's API token, if it has one")
    parser.add_argument(
        "--recordings-dir",
        type=Path,
        help="folder for the dashboard started here (default: a temporary one)",
    )
    args = parser.parse_args(argv)
    if args.url:
        run(Api(args.url, args.token))
        return
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.recordings_dir or Path(tmp)
        server = EventRecorderServer(
            EventRecorderConfig(recordings_dir=folder, port=0), token=args.token
        )
        url = server.start()
        print(f"dashboard running at {url} over {folder}")
        try:
            run(Api(url, args.token))
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
