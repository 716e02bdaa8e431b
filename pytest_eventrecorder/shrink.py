"""Delta debugging (ddmin): the smallest part of a recording that still makes a test fail.

Zeller and Hildebrandt's algorithm over the recording's input events, keeping their order:
try each chunk alone, then each complement, and split finer when neither fails. The result
is 1-minimal (removing any one event more makes the failure go away) unless the run budget
ran out first, in which case it is the smallest failing subset found so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Candidate = tuple[int, ...]
"""Indices into the input events, in their recorded order."""


class NotReproducible(Exception):
    """The whole recording does not make the test fail: there is nothing to shrink."""


@dataclass(frozen=True)
class Shrunk:
    kept: Candidate
    runs: int
    minimal: bool
    """False when the budget ran out before the result was known to be 1-minimal."""


class _Budget(Exception):
    pass


class _Tester:
    """Runs the test on candidates once each, within a budget, reporting progress."""

    def __init__(
        self,
        fails: Callable[[Candidate], bool],
        max_runs: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.fails, self.max_runs, self.progress = fails, max_runs, progress
        self.seen: dict[Candidate, bool] = {}
        self.runs = 0
        self.best: Candidate = ()

    def __call__(self, candidate: Candidate) -> bool:
        known = self.seen.get(candidate)
        if known is not None:
            return known
        if self.runs >= self.max_runs:
            raise _Budget
        self.runs += 1
        failed = self.seen[candidate] = bool(self.fails(candidate))
        if failed and len(candidate) < len(self.best):
            self.best = candidate
        if self.progress is not None:
            self.progress(self.runs, len(self.best))
        return failed


def ddmin(
    size: int,
    fails: Callable[[Candidate], bool],
    *,
    max_runs: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> Shrunk:
    """Shrink ``range(size)``; ``fails(candidate)`` runs the test on those inputs.

    ``progress(runs, smallest_so_far)`` is called after every run. Raises
    :class:`NotReproducible` when the full recording does not fail.
    """
    test = _Tester(fails, max_runs, progress)
    everything = tuple(range(size))
    test.best = everything
    try:
        if not test(everything):
            raise NotReproducible
        kept = _reduce(everything, test)
    except _Budget:
        return Shrunk(test.best, test.runs, minimal=False)
    return Shrunk(kept, test.runs, minimal=True)


def _reduce(current: Candidate, test: Callable[[Candidate], bool]) -> Candidate:
    granularity = 2
    while len(current) >= 2:
        chunks = _split(current, granularity)
        chunk = _first_failing(chunks, test)
        if chunk is not None:
            current, granularity = chunk, 2
            continue
        complement = _first_failing([_without(current, c) for c in chunks], test)
        if complement is not None:
            current, granularity = complement, max(granularity - 1, 2)
            continue
        if granularity >= len(current):
            break
        granularity = min(granularity * 2, len(current))
    return () if len(current) == 1 and test(()) else current


def _split(items: Candidate, parts: int) -> list[Candidate]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [chunk for chunk in out if chunk]


def _without(items: Candidate, chunk: Sequence[int]) -> Candidate:
    drop = set(chunk)
    return tuple(i for i in items if i not in drop)


def _first_failing(
    candidates: Sequence[Candidate], test: Callable[[Candidate], bool]
) -> Candidate | None:
    return next((c for c in candidates if c and test(c)), None)
