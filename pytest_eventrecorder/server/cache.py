"""Caches bounded by memory, and the estimates of memory they are bounded by.

Counting entries says nothing about memory: one timeline of a 2,000-lane recording holds
tens of megabytes, one index of a small file a few kilobytes. Every cache of the dashboard
keeps entries with their size in bytes and drops the least recently used past its budget.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SizedCache(Generic[V]):
    """A thread-safe LRU cache holding at most ``budget`` bytes of values (as estimated by
    whoever puts them). A value bigger than the whole budget is not kept at all, unless
    ``keep_oversize``: then it is kept alone (better than building it again per request)."""

    def __init__(self, budget: int, *, keep_oversize: bool = False) -> None:
        self.budget = budget
        self.keep_oversize = keep_oversize
        self.nbytes = 0
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, *, touch: bool = True) -> V | None:
        """The value, marked as just used unless ``touch`` is false (a peek).

        No lock: each OrderedDict call is atomic, and a reader waiting for a lock that a
        preempted writer holds would wait for every other thread's turn (16 threads: 100 ms).
        """
        found = self._items.get(key)
        if found is None:
            return None
        if touch:
            with contextlib.suppress(KeyError):  # dropped since, by another thread
                self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        with self._lock:
            self._drop(key)
            if size > self.budget and not self.keep_oversize:
                return
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.budget and len(self._items) > 1:
                # One call: a reader's move_to_end may run between two (get takes no lock).
                self.nbytes -= self._items.popitem(last=False)[1][1]

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        found = self._items.pop(key, None)
        if found is not None:
            self.nbytes -= found[1]


def size_of(value: object) -> int:
    """The bytes a parsed JSON value takes in memory, containers and contents included
    (walked without recursion: data nested deeper than Python's stack is measured too)."""
    total, pending, seen = 0, [value], set()
    getsize = sys.getsizeof
    while pending:
        item = pending.pop()
        if isinstance(item, dict | list | tuple):
            if id(item) in seen:  # a shared object is held once
                continue
            seen.add(id(item))
            pending.extend(item.values() if isinstance(item, dict) else item)
            if isinstance(item, dict):
                pending.extend(item)
        total += getsize(item)
    return total
