"""The dashboard's replay: a simulation on a background thread, as the seed describes.

Events are published into a :class:`SimulatedBus` that only remembers the current event.
Speed is a property of a :class:`ScaledClock` rather than of the replay, so it can change
while a replay runs: the replayer schedules at 1x on a clock that runs ``speed`` times fast.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..adapters import EventSink
from ..cassette import RecordedEvent
from ..clock import Clock, RealClock
from ..replayer import EventReplayer
from .store import EventIndex

log = logging.getLogger("pytest_eventrecorder")

MIN_SPEED = 0.01
MAX_SPEED = 1000.0
POLL_NS = 50_000_000
"""How often a long wait looks again at the speed (a speed change applies within this)."""
TERMINAL = ("idle", "stopped", "finished")


def check_speed(value: object) -> float:
    """A replay speed from a request, or ``ValueError`` naming the allowed range."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'speed' must be a number, got {value!r}")
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise ValueError(f"'speed' must be from {MIN_SPEED} to {MAX_SPEED:g}, got {value!r}")
    return float(value)


class ScaledClock:
    """A clock whose time runs ``speed`` times as fast as ``base``; the speed may change."""

    def __init__(self, base: Clock, speed: float = 1.0) -> None:
        self._base = base
        self._lock = threading.Lock()
        self._speed = speed
        self._base_anchor = base.now_ns()
        self._anchor = 0

    @property
    def speed(self) -> float:
        return self._speed

    def now_ns(self) -> int:
        with self._lock:
            return self._now()

    def _now(self) -> int:
        return self._anchor + round((self._base.now_ns() - self._base_anchor) * self._speed)

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._anchor = self._now()
            self._base_anchor = self._base.now_ns()
            self._speed = speed

    def sleep_until(self, deadline_ns: int, interrupt: threading.Event) -> None:
        while not interrupt.is_set():
            with self._lock:
                remaining = deadline_ns - self._now()
                speed = self._speed
            if remaining <= 0:
                return
            wait = min(math.ceil(remaining / speed), POLL_NS)
            self._base.sleep_until(self._base.now_ns() + wait, interrupt)

    async def sleep_until_async(self, deadline_ns: int, interrupt: threading.Event) -> None:
        while not interrupt.is_set():
            with self._lock:
                remaining = deadline_ns - self._now()
                speed = self._speed
            if remaining <= 0:
                return
            wait = min(math.ceil(remaining / speed), POLL_NS)
            await self._base.sleep_until_async(self._base.now_ns() + wait, interrupt)


class SimulatedBus:
    """A bus adapter that publishes nowhere: it keeps the last event it was given."""

    name = "simulation"

    def __init__(self) -> None:
        self.current: RecordedEvent | None = None
        self.published = 0

    def attach(self, sink: EventSink) -> None:
        raise RuntimeError("the simulated bus only receives replayed events; it cannot record")

    def detach(self) -> None:
        """Nothing is attached."""

    def publish(self, event: RecordedEvent, payload: object) -> None:
        self.current = event
        self.published += 1

    def close(self) -> None:
        """Nothing to release."""


@dataclass
class _Run:
    filename: str
    total: int
    replayer: EventReplayer
    clock: ScaledClock
    bus: SimulatedBus
    error: str | None = None


class ReplayManager:
    """At most one simulated replay at a time; every method is safe from any thread."""

    def __init__(self, clock_factory: Callable[[], Clock] = lambda: RealClock(spin_ns=0)) -> None:
        self._clock_factory = clock_factory
        self._lock = threading.Lock()
        # Starts and stops take turns, so a start replaces exactly the replay it stopped:
        # two at once would each stop the old one and the loser's thread would run on,
        # unreachable by any later stop.
        self._switch = threading.Lock()
        self._run: _Run | None = None
        self._thread: threading.Thread | None = None
        self._speed = 1.0

    def start(self, index: EventIndex, speed: float | None = None) -> dict[str, Any]:
        """Replay a recording, replacing (stopping) any replay already running."""
        with self._switch:
            self._stop_running(timeout=5.0)
            with self._lock:
                if speed is not None:
                    self._speed = speed
                clock = ScaledClock(self._clock_factory(), self._speed)
                replayer = EventReplayer(index.replay_source(), clock=clock)
                run = _Run(index.filename, index.count, replayer, clock, SimulatedBus())
                thread = threading.Thread(
                    target=self._play, args=(run,), daemon=True, name="eventrecorder-replay"
                )
                self._run, self._thread = run, thread
                thread.start()
            # Return once the replay has begun, so the first status already says "playing".
            while replayer.state == "idle" and thread.is_alive():
                time.sleep(0.001)
        log.info("Replaying %s at %gx (simulation)", index.filename, clock.speed)
        return self.status()

    def _play(self, run: _Run) -> None:
        try:
            run.replayer.replay(run.bus, speed_multiplier=1.0)
        except Exception as exc:  # a replay thread has nobody to raise to
            log.exception("Replay of %s failed", run.filename)
            run.error = f"{type(exc).__name__}: {exc}"
            run.replayer.state = "stopped"

    def toggle_pause(self) -> dict[str, Any]:
        """Pause a playing replay or resume a paused one; ``LookupError`` if neither."""
        with self._lock:
            run = self._run
            state = run.replayer.state if run else "idle"
            if run is None or state not in ("playing", "paused"):
                raise LookupError(f"no replay is playing or paused (status: {state})")
            if state == "playing":
                run.replayer.pause()
            else:
                run.replayer.resume()
        return self.status()

    def stop(self, timeout: float = 5.0) -> dict[str, Any]:
        """Stop the running replay, if any, and wait for its thread."""
        with self._switch:
            self._stop_running(timeout)
        return self.status()

    def _stop_running(self, timeout: float) -> None:
        with self._lock:
            run, thread = self._run, self._thread
        if run is not None and thread is not None and thread.is_alive():
            run.replayer.stop()
            thread.join(timeout)

    def set_speed(self, speed: float) -> dict[str, Any]:
        """Change the speed now (a running replay speeds up or slows down) and for later ones."""
        with self._lock:
            self._speed = speed
            if self._run is not None:
                self._run.clock.set_speed(speed)
        return self.status()

    def status(self) -> dict[str, Any]:
        """The contract's replay status (``simulation`` is always true here)."""
        with self._lock:
            run, speed = self._run, self._speed
        if run is None:
            return {
                "status": "idle",
                "filename": None,
                "speed": speed,
                "position": 0,
                "total": 0,
                "current_offset_ms": 0.0,
                "current_event": None,
                "simulation": True,
                "error": None,
            }
        replayer, current = run.replayer, run.bus.current
        return {
            "status": replayer.state,
            "filename": run.filename,
            "speed": speed,
            "position": replayer.position,
            "total": run.total,
            "current_offset_ms": current.timestamp_offset_ms if current else 0.0,
            "current_event": None if current is None else _current(run.bus, current),
            "simulation": True,
            "error": run.error,
        }


def _current(bus: SimulatedBus, event: RecordedEvent) -> dict[str, Any]:
    return {"index": bus.published - 1, **event.to_dict()}
