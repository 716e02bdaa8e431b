"""At most a few requests run the app at once; the others wait their turn, in order.

Every request thread of the server shares one interpreter lock. Sixteen requests running at
once do not finish sooner than one after the other: they take turns with the lock, and a
thread that gives it up (any system call does) waits for a turn again, in no fair order,
behind up to fifteen others holding it for up to 5 ms each (``sys.getswitchinterval``). Warm
requests take well under a millisecond of CPU each, so most finish at once while the unlucky
wait 100 ms or more. Through the gate they queue in arrival order instead, and a request
that waits longer than ``patience`` (a build of a big recording holding a place for seconds)
runs anyway, as it would have without the gate.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SLOTS = 2
"""Requests running the app at once: two, so one blocked in a system call or a long build
never stops the others."""
PATIENCE_S = 0.05
"""The longest a request waits for its turn before it runs anyway."""

class Gate:
    """A counting lock that hands places over in arrival order, with a bounded wait."""

    def __init__(self, slots: int = SLOTS, patience_s: float = PATIENCE_S) -> None:
        self.patience_s = patience_s
        self._free = slots
        self._lock = threading.Lock()
        self._queue: deque[threading.Lock] = deque()

    def enter(self) -> bool:
        """Take a place (``True``), waiting in line for one; ``False`` after waiting
        ``patience_s`` in vain (the caller runs without a place, and does not leave)."""
        with self._lock:
            if self._free and not self._queue:
                self._free -= 1
                return True
            turn = threading.Lock()
            turn.acquire()
            self._queue.append(turn)
        if turn.acquire(timeout=self.patience_s):
            return True
        with self._lock:
            if turn in self._queue:
                self._queue.remove(turn)
                return False
        return True  # handed a place just as the wait ran out

    def leave(self) -> None:
        """Give the place to the first in line, or free it."""
        with self._lock:
            if self._queue:
                self._queue.popleft().release()
            else:
                self._free += 1


def gated(app: WSGIApplication, gate: Gate) -> WSGIApplication:
    """``app`` run through ``gate``. Only the call is gated: a streamed body (the replay's
    event stream) is sent after the place is given back."""

    def run(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        entered = gate.enter()
        try:
            return app(environ, start_response)
        finally:
            if entered:
                gate.leave()

    return run
