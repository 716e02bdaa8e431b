"""Clocks: the real one sleeps then spins to a deadline; the virtual one jumps to it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pytest_eventrecorder import RealClock, VirtualClock


class CountingEvent(threading.Event):
    """An interrupt that notes how the clock waited on it."""

    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        return super().wait(0)


def test_real_clock_sleeps_most_of_the_way_then_spins(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000_000_000]
    monkeypatch.setattr(time, "perf_counter_ns", lambda: now[0])

    def sleep(_: float) -> None:
        now[0] += 100_000  # each spin step: 0.1 ms passes

    monkeypatch.setattr(time, "sleep", sleep)
    interrupt = CountingEvent()
    original_wait = interrupt.wait

    def wait(timeout: float | None = None) -> bool:
        now[0] += round((timeout or 0) * 1e9)
        return original_wait(timeout)

    monkeypatch.setattr(interrupt, "wait", wait)
    RealClock(spin_ns=1_500_000).sleep_until(now[0] + 10_000_000, interrupt)
    assert interrupt.timeouts == [pytest.approx(0.0085)]  # 10 ms minus the 1.5 ms spin
    assert now[0] == 1_010_000_000


def test_real_clock_returns_at_once_for_a_past_deadline_or_an_interrupt() -> None:
    clock = RealClock()
    interrupt = CountingEvent()
    clock.sleep_until(clock.now_ns() - 1, interrupt)
    interrupt.set()
    clock.sleep_until(clock.now_ns() + 3_600 * 10**9, interrupt)
    assert interrupt.timeouts == []


def test_real_clock_async_wait_is_cut_short_by_the_interrupt() -> None:
    clock = RealClock(poll_ns=1_000_000)
    interrupt = threading.Event()
    threading.Timer(0.01, interrupt.set).start()
    asyncio.run(
        asyncio.wait_for(clock.sleep_until_async(clock.now_ns() + 3_600 * 10**9, interrupt), 10)
    )
    assert interrupt.is_set()


def test_virtual_clock_jumps_and_never_goes_back() -> None:
    clock = VirtualClock(start_ns=100)
    interrupt = threading.Event()
    clock.sleep_until(500, interrupt)
    clock.sleep_until(200, interrupt)
    asyncio.run(clock.sleep_until_async(900, interrupt))
    clock.advance(50)
    assert clock.sleeps == [500, 200, 900]
    assert clock.now_ns() == 950
