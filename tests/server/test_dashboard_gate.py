"""The request gate: places handed over in arrival order; a long wait runs anyway."""

from __future__ import annotations

import threading
import time

import pytest

from pytest_eventrecorder.server.gate import Gate, gated


def test_places_go_to_the_waiting_requests_in_arrival_order() -> None:
    gate = Gate(slots=1, patience_s=10)
    assert gate.enter()
    order: list[int] = []

    def request(n: int) -> None:
        assert gate.enter()
        order.append(n)
        gate.leave()

    threads = []
    for n in range(5):
        thread = threading.Thread(target=request, args=(n,))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # each in line before the next arrives
    gate.leave()
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_request_that_waits_too_long_runs_without_a_place() -> None:
    gate = Gate(slots=1, patience_s=0.01)
    assert gate.enter()  # a long build holds the only place
    started = time.perf_counter()
    assert not gate.enter()
    assert time.perf_counter() - started < 1
    gate.leave()
    assert gate.enter()  # the place came back: the one that gave up did not leave
    assert not gate.enter()


def test_the_place_is_given_back_when_the_app_fails() -> None:
    gate = Gate(slots=1, patience_s=0.01)

    def broken(environ: object, start_response: object) -> list[bytes]:
        raise RuntimeError("boom")

    app = gated(broken, gate)
    for _ in range(2):
        with pytest.raises(RuntimeError):
            app({}, None)  # type: ignore[arg-type]  # never called
    assert gate.enter()
