"""Perturbed replay: the recorded inputs delivered as a real broker may deliver them.

``event_cassette.explore(check)`` replays the test's inputs many times, each time with
changes a broker can make (an input delivered twice, an input lost, sources interleaved
differently, an input late), and calls ``check()`` after each. Hypothesis builds the
variations and, when one fails, shrinks it to the fewest changes that still fail; that
variation is run once more under a recorder and saved beside the cassette, so what the bus
carried then can be replayed.

A variation is encoded so that Hypothesis's shrinking moves toward "as recorded": every
flag shrinks to False, every delay to the lowest, every ordering key to 0 (recorded order).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from ..cassette import Cassette, RecordedEvent
from ..formats import write_cassette
from ..recorder import EventRecorder
from ..replayer import EventReplayer

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from .session import EventCassette

Reorder = bool | Literal["per_source"]
EXTRA = "pip install 'pytest-eventrecorder[explore]'"
SAVED_SUFFIX = "-explored"


@dataclass(frozen=True)
class Perturbations:
    """What explore() may change; ``delay_ms`` is (lowest, highest) extra delay or None."""

    duplicate: bool = True
    drop: bool = False
    reorder: Reorder = "per_source"
    delay_ms: tuple[int, int] | None = (0, 50)
    max_examples: int = 100

    def __post_init__(self) -> None:
        if self.reorder not in (True, False, "per_source"):
            raise ValueError(f"reorder must be True, False or 'per_source', got {self.reorder!r}")
        if self.delay_ms is not None:
            low, high = self.delay_ms
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
                raise TypeError(f"delay_ms must be two whole milliseconds, got {self.delay_ms!r}")
            if not 0 <= low <= high:
                raise ValueError(
                    f"delay_ms must be (low, high) with 0 <= low <= high, got {self.delay_ms!r}"
                )
        if not isinstance(self.max_examples, int) or self.max_examples < 1:
            raise ValueError(
                f"max_examples must be a positive whole number, got {self.max_examples!r}"
            )


@dataclass(frozen=True)
class Delivery:
    index: int
    """The input's position in the recorded inputs (0-based)."""
    delay_ms: int
    copy: int = 0
    """0 for the delivery, 1 for a duplicate."""


Variation = tuple[Delivery, ...]


@dataclass(frozen=True)
class ExploreResult:
    """What explore() tried: ``failure`` is None when every variation passed."""

    examples: int
    failure: ExploreFailure | None = None


@dataclass(frozen=True)
class ExploreFailure:
    changes: tuple[str, ...]
    error: str
    saved: Path


def _require_hypothesis() -> None:
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        raise ImportError(
            f"event_cassette.explore() needs Hypothesis: {EXTRA} (or pip install hypothesis)"
        ) from None


# --------------------------------------------------------------------------- variations


def strategy(inputs: Sequence[RecordedEvent], p: Perturbations) -> SearchStrategy[Variation]:
    """Variations of ``inputs``: each shrinks toward delivering them as recorded."""
    _require_hypothesis()
    from hypothesis import strategies as st

    n = len(inputs)

    def flags(on: bool) -> SearchStrategy[list[bool]]:
        return st.lists(st.booleans(), min_size=n, max_size=n) if on else st.just([False] * n)

    low, high = p.delay_ms or (0, 0)
    delays = st.lists(st.integers(low, high), min_size=n, max_size=n)
    keys = st.lists(st.integers(0, n), min_size=n, max_size=n) if p.reorder else st.just([0] * n)
    return st.builds(
        lambda dup, drop, delay, key: _deliveries(inputs, p.reorder, dup, drop, delay, key),
        flags(p.duplicate),
        flags(p.drop),
        delays,
        keys,
    )


def _deliveries(
    inputs: Sequence[RecordedEvent],
    reorder: Reorder,
    dup: list[bool],
    drop: list[bool],
    delay: list[int],
    keys: list[int],
) -> Variation:
    if reorder == "per_source":
        keys = _monotonic_per_source(inputs, keys)
    order = sorted(range(len(inputs)), key=lambda i: (keys[i], i))
    out: list[Delivery] = []
    for i in order:
        if drop[i]:
            continue
        out.append(Delivery(i, delay[i]))
        if dup[i]:
            out.append(Delivery(i, delay[i], copy=1))
    return tuple(out)


def _monotonic_per_source(inputs: Sequence[RecordedEvent], keys: list[int]) -> list[int]:
    """Each source's keys sorted in its recorded order: its events keep their order, while
    sources interleave differently (a broker orders one publisher's messages, not several)."""
    by_source: dict[str | None, list[int]] = {}
    for i, event in enumerate(inputs):
        by_source.setdefault(event.source, []).append(i)
    fixed = list(keys)
    for indices in by_source.values():
        for i, key in zip(indices, sorted(keys[i] for i in indices), strict=True):
            fixed[i] = key
    return fixed


def delivered(inputs: Sequence[RecordedEvent], variation: Variation) -> list[RecordedEvent]:
    """The events to publish, in order; a late one moves later in time, never earlier than
    the one delivered before it (the replay keeps list order)."""
    out, at = [], 0.0
    for d in variation:
        event = inputs[d.index]
        at = max(at, event.timestamp_offset_ms + d.delay_ms)
        out.append(replace(event, timestamp_offset_ms=at))
    return out


def describe(inputs: Sequence[RecordedEvent], variation: Variation) -> list[str]:
    """The variation as a list of changes: "input #12 ('Tick' from feed at 5 ms) lost"."""

    def name(i: int) -> str:
        e = inputs[i]
        return f"input #{i + 1} ({e.event_name!r} from {e.source} at {e.timestamp_offset_ms:g} ms)"

    firsts = [d for d in variation if d.copy == 0]
    present = {d.index for d in firsts}
    changes = [f"{name(i)} lost" for i in range(len(inputs)) if i not in present]
    changes += [f"{name(d.index)} delivered twice" for d in variation if d.copy]
    changes += [f"{name(d.index)} delivered {d.delay_ms} ms late" for d in firsts if d.delay_ms]
    for pos, d in enumerate(firsts):
        overtaken = [e.index for e in firsts[pos + 1 :] if e.index < d.index]
        if overtaken:
            changes.append(f"{name(d.index)} delivered before {name(min(overtaken))}")
    return changes


# --------------------------------------------------------------------------- running


class Explorer:
    """One explore() call: runs variations on the cassette's bus, its capture muted."""

    def __init__(
        self,
        cassette: EventCassette,
        check: Callable[[], Any],
        setup: Callable[[], Any] | None,
        p: Perturbations,
    ) -> None:
        if cassette.options.inputs is None:
            raise ValueError(
                "explore() varies the test's inputs: name them on the marker, "
                "@pytest.mark.event_cassette(inputs=[...])"
            )
        self.cassette, self.check, self.setup, self.p = cassette, check, setup, p
        self.inputs = [e for e in cassette.events if cassette.options.is_input(e)]
        recorded = cassette.cassette or cassette.recorder.to_cassette()
        self.start_time = recorded.header.start_time
        self.examples = 0

    def search(self, fails: Callable[[Variation], bool]) -> Variation | None:
        """The smallest failing variation Hypothesis finds, or None."""
        _require_hypothesis()
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample

        chosen = settings(
            max_examples=self.p.max_examples,
            database=None,  # variations of one test's inputs: nothing worth keeping on disk
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        try:
            found = find(strategy(self.inputs, self.p), fails, settings=chosen)
        except NoSuchExample:
            return None
        return found

    def replayer(self, variation: Variation) -> EventReplayer:
        events = delivered(self.inputs, variation)
        return EventReplayer(Cassette.build("explore", events, start_time=self.start_time))

    def replay_args(self) -> dict[str, Any]:
        """As play() replays: the marker's speed and events module, and its clock. Under
        ``clock="recorded"`` each variation starts at the recording's start time and reads
        the time of its own deliveries, so a late input is late to the code under test
        even at instant speed."""
        args = {
            "speed_multiplier": self.cassette.options.speed,
            "events_module_name": self.cassette.options.events_module,
        }
        clock = getattr(self.cassette.options, "clock", None)  # the virtual time option
        return args if clock is None else {**args, "clock": clock}

    def outcome(self, error: BaseException | None, answer: Any) -> str | None:
        """Why a variation failed, or None when it passed."""
        self.examples += 1
        if error is not None:
            return f"{type(error).__name__}: {error}"
        return "check() returned False" if answer is False else None

    def run(self, variation: Variation) -> str | None:
        with self.cassette.muted():
            try:
                if self.setup is not None:
                    self.setup()
                self.replayer(variation).replay(self.cassette.bus, **self.replay_args())
                answer = self.check()
            except FAILURES as exc:
                return self.outcome(exc, None)
        return self.outcome(None, answer)

    async def run_async(self, variation: Variation) -> str | None:
        with self.cassette.muted():
            try:
                await _maybe_await(self.setup)
                replayer = self.replayer(variation)
                await replayer.replay_async(self.cassette.bus, **self.replay_args())
                answer = await _maybe_await(self.check)
            except FAILURES as exc:
                return self.outcome(exc, None)
        return self.outcome(None, answer)

    def saved_path(self) -> Path:
        path = self.cassette.path
        return path.with_name(f"{path.stem}{SAVED_SUFFIX}{path.suffix}")

    def save(self, recorder: EventRecorder, changes: list[str], error: str) -> Path:
        """What the bus carried in the failing variation, exactly, with the changes named."""
        explored = {"from": self.cassette.shown_path, "changes": list(changes), "error": error}
        cassette = recorder.to_cassette()
        cassette = Cassette.build(
            cassette.header.session_name,
            cassette.events,
            start_time=cassette.header.start_time,
            metadata={**cassette.header.metadata, "explored": explored},
        )
        path = self.saved_path()
        write_cassette(path, cassette)
        return path

    def report(self, changes: list[str], error: str, saved: Path) -> str:
        shown = Path(self.cassette.shown_path).with_name(saved.name)
        lines = [
            "explore: the check fails when the recorded inputs are delivered like this "
            f"(smallest of {self.examples} variations tried):",
            *(f"  {change}" for change in changes or ["(as recorded)"]),
            f"check: {error}",
            f"What the bus carried then is saved as {shown}; replay it with "
            f"@pytest.mark.{_MARKER}({Path(shown.name).stem!r}, inputs=[...]) "
            "and the event_replay fixture.",
        ]
        return "\n".join(lines)


_MARKER = "event_cassette"
FAILURES = (Exception, pytest.fail.Exception)
"""What fails a variation: any exception, and ``pytest.fail()`` in a check."""


async def _maybe_await(function: Callable[[], Any] | None) -> Any:
    if function is None:
        return None
    result = function()
    return await result if inspect.isawaitable(result) else result


def explore(explorer: Explorer) -> ExploreResult:
    """Search, then run the smallest failing variation once more under a recorder."""
    __tracebackhide__ = True
    if inspect.iscoroutinefunction(getattr(explorer.cassette.bus, "publish", None)):
        raise TypeError(
            "this bus publishes asynchronously; use `await event_cassette.explore_async(...)`"
        )
    variation = explorer.search(lambda v: explorer.run(v) is not None)
    if variation is None:
        return ExploreResult(explorer.examples)
    recorder = EventRecorder("explored", explorer.cassette.path.parent)
    recorder.start_recording(explorer.cassette.bus)
    try:
        error = explorer.run(variation)
    finally:
        recorder.stop_recording()
    return _failed(explorer, variation, recorder, error)


async def explore_async(explorer: Explorer) -> ExploreResult:
    """:func:`explore` for asyncio buses: Hypothesis searches in a worker thread while each
    variation runs on this event loop (the bus and its subscribers live on it)."""
    loop = asyncio.get_running_loop()

    def fails(v: Variation) -> bool:
        return asyncio.run_coroutine_threadsafe(explorer.run_async(v), loop).result() is not None

    variation = await asyncio.to_thread(explorer.search, fails)
    if variation is None:
        return ExploreResult(explorer.examples)
    recorder = EventRecorder("explored", explorer.cassette.path.parent)
    recorder.start_recording(explorer.cassette.bus)
    try:
        error = await explorer.run_async(variation)
    finally:
        recorder.stop_recording()
    return _failed(explorer, variation, recorder, error)


def _failed(
    explorer: Explorer, variation: Variation, recorder: EventRecorder, error: str | None
) -> ExploreResult:
    __tracebackhide__ = True
    changes = describe(explorer.inputs, variation)
    if error is None:
        raise AssertionError(
            "explore: a variation failed the check once but passed when run again, so the "
            "failure depends on something besides the inputs' delivery (time, randomness, "
            f"state setup= does not reset). The variation: {'; '.join(changes)}"
        )
    saved = explorer.save(recorder, changes, error)
    failure = ExploreFailure(tuple(changes), error, saved)
    raise ExploreError(
        explorer.report(changes, error, saved), ExploreResult(explorer.examples, failure)
    )


# pytest.fail.Exception is public (documented) though typed as an attribute of a function.
class ExploreError(pytest.fail.Exception):  # type: ignore[misc,name-defined]
    """A variation of the inputs failed the check; ``result.failure`` says which. A test
    failure (``pytest.fail``) whose message is the whole report, without a traceback."""

    def __init__(self, message: str, result: ExploreResult) -> None:
        super().__init__(message, pytrace=False)
        self.result = result


def perturbations(
    duplicate: bool = True,
    drop: bool = False,
    reorder: object = "per_source",
    delay_ms: object = (0, 50),
    max_examples: int = 100,
) -> Perturbations:
    """explore()'s arguments, checked (a bad one is a clear TypeError or ValueError)."""
    delay: tuple[int, int] | None = None
    if delay_ms is not None:
        if isinstance(delay_ms, str) or not isinstance(delay_ms, Sequence) or len(delay_ms) != 2:
            raise TypeError(f"delay_ms must be (low, high) in whole milliseconds, got {delay_ms!r}")
        delay = (delay_ms[0], delay_ms[1])
    if reorder not in (True, False, "per_source"):
        raise ValueError(f"reorder must be True, False or 'per_source', got {reorder!r}")
    return Perturbations(duplicate, drop, reorder, delay, max_examples)
