"""One test's cassette: record the bus, or replay its inputs and verify its outputs.

The pytest plugin builds an :class:`EventCassette` per test and drives its lifecycle:
``start`` at fixture setup, ``verify`` right after the test body (so a difference fails
the test itself), ``finish`` at teardown (atomic save).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import math
import os
import re
import shlex
import traceback
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import pytest

from ..adapters import BusAdapter, EventSink, MethodAdapter, ServiceBusAdapter, adapter_for
from ..adapters.base import redaction_of
from ..cassette import Cassette, CassetteError, JSONValue, RecordedEvent
from ..causality import CAUSED_BY, reindexed
from ..codec import gc_paused
from ..compare import (
    Comparison,
    Difference,
    format_report,
    unmatched_note,
    unmatched_paths,
)
from ..fieldpaths import parse_paths, replace_fields
from ..formats import read_cassette, write_cassette
from ..matching import MatchHook, MatchRules
from ..recorder import EventRecorder, kept_by
from ..replayer import EventReplayer, ReplayResult
from ..serialize import DEFAULT_REDACTION, Redaction
from .causes import CauseNotes, compare_outputs, outputs_in_step
from .loaded import LoadedCassette
from .options import CassetteOptions, InputSelector
from .virtualtime import ReplayTime

if TYPE_CHECKING:
    from .explore import ExploreResult

log = logging.getLogger("pytest_eventrecorder")

Mode = Literal["record", "replay", "live", "missing"]
"""``missing``: replay-only mode and no cassette; the test fails before its body runs."""
REDACTED = "[REDACTED]"
PLAYS = "plays"
CONFTEST_HOOK = "pytest_eventrecorder_before_record_event"
"""Header metadata of a cassette whose test called play() more than once."""
MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=,+]+")
_NEW_EVENT_GAP_MS = 0.001
"""Spacing given to appended events so they sort after the event they followed."""

HookCall = Callable[[RecordedEvent], "RecordedEvent | bool | None"]
"""The conftest hook: ``None`` means no opinion (the event is kept as it is)."""


class CassetteMissingError(Exception):
    """Replay-only mode and no cassette on disk."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no cassette at {path} (record mode 'none')")


# --------------------------------------------------------------------------- paths


def default_cassette_name(test_name: str, class_name: str | None = None) -> str:
    """``<Class.>test_name[params].json``, so every test (and parameter set) gets its own
    file: a name with unsafe characters replaced, or too long, ends with a hash of the real
    one (``[a/b]`` and ``[a:b]`` must not share a cassette)."""
    real = f"{class_name}.{test_name}" if class_name else test_name
    stem = _UNSAFE.sub("_", real)
    if stem != real or len(stem) > MAX_NAME:
        digest = hashlib.sha1(real.encode(), usedforsecurity=False).hexdigest()[:10]
        stem = f"{stem[: MAX_NAME - 11]}-{digest}"
    return f"{stem}.json"


def cassette_path(folder: Path, name: str) -> Path:
    """A cassette name resolved in ``folder`` (absolute names are kept); no suffix means json.

    ``..`` is resolved by name, so ``../test_orders/test_x`` (another module's cassette)
    is found, and shown, as ``<cassettes>/test_orders/test_x.json`` even when this
    module's own folder does not exist yet.
    """
    path = Path(name)
    if not path.suffix:
        path = path.with_name(f"{path.name}.json")
    return Path(os.path.normpath(path if path.is_absolute() else folder / path))


def rerecord_command(nodeid: str, mode: str = "all") -> str:
    """The command line that re-records one test's cassette."""
    return f"pytest {shlex.quote(nodeid)} --record-mode={mode}"


# --------------------------------------------------------------------------- the cassette


class EventCassette:
    """The ``event_cassette`` fixture: records in record mode, replays and verifies otherwise.

    ``play(live=fn)`` calls ``fn`` when recording (or running live) and, when replaying,
    publishes the cassette's input events instead, without calling ``fn``.
    """

    def __init__(
        self,
        options: CassetteOptions,
        path: Path,
        bus: object,
        *,
        nodeid: str,
        mode: Mode,
        hook: HookCall | None = None,
        match_hook: MatchHook | None = None,
        rerun_id: str | None = None,
        shown_path: str | None = None,
        loaded: LoadedCassette | None = None,
    ) -> None:
        self.options = options
        self.path = path
        self.bus = bus
        self.nodeid = nodeid
        self.rerun_id = rerun_id or nodeid
        """The node id as typed from where pytest was started (for the re-record command)."""
        self.shown_path = shown_path or str(path)
        self.mode: Mode = mode
        self._loaded = loaded
        """Where the cassette was read, shared with later tests while this one leaves it
        as it is."""
        self._cassette: Cassette | None = self._read() if mode == "replay" else None
        self.errors: list[BaseException] = []
        self._hook = hook
        self._match_rules = MatchRules.build(dict(options.matchers), match_hook)
        self._redact = parse_paths(options.redact, what="redact")
        self._is_input = options.input_test()
        self._causes = CauseNotes(
            mode == "record",
            options.inputs is not None,
            self._is_input,
            self._cassette,
            timed=options.max_latency_ms is not None,
        )
        self._appended: Cassette | None = None
        self._plays: list[float] = []
        """When each play() call began, recording (ms on the cassette's clock)."""
        self._played = 0
        self._crash: tuple[Exception, RecordedEvent] | None = None
        """The exception that stopped a replay, and the input being published."""
        self.capturing = True
        """False while explore() replays variations: they are not this test's events."""
        self.recorder = self._new_recorder(options.redaction())
        self._time = ReplayTime(options.clock, self.recorder)
        self._replay_into: object = bus
        """What play() replays into: the bus, or the in-process adapter start() made for it."""

    # ------------------------------------------------------------------ state

    @property
    def is_recording(self) -> bool:
        """Whether this test writes its cassette at teardown."""
        return self.mode == "record"

    @property
    def cassette(self) -> Cassette | None:
        """The cassette replayed (``None`` when recording); no later test shares it once
        this one has been handed it, since this one may change the events' data."""
        self._unshare()
        return self._cassette

    @property
    def events(self) -> list[RecordedEvent]:
        """The cassette's events when replaying; the events recorded so far otherwise."""
        if self._cassette is None:
            return self.recorder.events
        self._unshare()  # the test may change the events' data
        return list(self._cassette.events)

    @property
    def outputs(self) -> list[RecordedEvent]:
        """The events the bus carried in this test that are not inputs."""
        return [e for e in self.recorder.events if not self._injected(e)]

    @property
    def verifies(self) -> bool:
        """Whether outputs are compared with the cassette (replaying, with ``inputs=``)."""
        return self.mode == "replay" and self.options.inputs is not None

    @property
    def crashed(self) -> bool:
        """Whether the replay stopped on an exception (its missing outputs are no change)."""
        return self._crash is not None

    @property
    def appended(self) -> bool:
        """Whether new_episodes has new outputs to append at teardown."""
        return self._appended is not None

    def _read(self) -> Cassette:
        return read_cassette(self.path) if self._loaded is None else self._loaded.read(self.path)

    def _unshare(self) -> None:
        if self._loaded is not None:
            self._loaded.release(self._cassette)

    def _new_recorder(self, redaction: Redaction) -> EventRecorder:
        """A recorder applying the hooks, redaction and causes as its ``before_record``
        hook; one that adds the causes itself when a plain replay needs nothing else, since
        the hook costs the recorder a second snapshot and event per output."""
        skipped = self._skipped_inputs()
        if (
            skipped is not None
            and self._hook is None
            and self.options.before_record_event is None
            and not self._redact
            and not redaction.hides(CAUSED_BY)
        ):
            return _CausingRecorder(self, self._causes, skipped, redaction)
        return EventRecorder(
            self.path.stem,
            self.path.parent,
            before_record=self._before_record,
            metadata={"test": self.nodeid},
            redaction=redaction,
        )

    def _skipped_inputs(self) -> frozenset[str] | None:
        """The inputs the recorder is spared, if any: a replay compares only outputs, but
        new_episodes needs the inputs, to place each new output after the input it answered."""
        names, appends = self.options.inputs, self.options.record_mode == "new_episodes"
        if self.mode == "replay" and isinstance(names, tuple) and names and not appends:
            return frozenset(names)
        return None

    def _injected(self, event: RecordedEvent) -> bool:
        return self.options.inputs is not None and self._is_input(event)

    # ------------------------------------------------------------------ playing

    def play(
        self, live: Callable[[], Any] | None = None, *, speed: float | None = None
    ) -> ReplayResult | None:
        """Replay the cassette's inputs into the bus, or call ``live`` when not replaying."""
        self._check_not_missing()
        if self.mode != "replay":
            self._note_play()
            result = live() if live is not None else None
            if inspect.isawaitable(result):
                _close(result)
                raise TypeError(
                    "live returned an awaitable; use `await event_cassette.play_async(...)`"
                )
            return None
        if inspect.iscoroutinefunction(getattr(self.bus, "publish", None)):
            raise TypeError(
                "this bus publishes asynchronously; use `await event_cassette.play_async()`"
            )
        replayer, start_ms = self._next_part()
        with self._noting_a_crash(replayer):
            return replayer.replay(
                self._replay_into,
                self._speed(speed),
                self.options.events_module,
                where=self._is_input,
                start_at_ms=start_ms,
                clock=self._time.clock(),
            )

    async def play_async(
        self, live: Callable[[], Any] | None = None, *, speed: float | None = None
    ) -> ReplayResult | None:
        """:meth:`play` for asyncio buses: awaits ``live()`` and each publish."""
        self._check_not_missing()
        if self.mode != "replay":
            self._note_play()
            result = live() if live is not None else None
            if inspect.isawaitable(result):
                await result
            return None
        replayer, start_ms = self._next_part()
        with self._noting_a_crash(replayer):
            return await replayer.replay_async(
                self._replay_into,
                self._speed(speed),
                self.options.events_module,
                where=self._is_input,
                start_at_ms=start_ms,
                clock=self._time.clock(),
            )

    def explore(
        self,
        check: Callable[[], Any],
        *,
        setup: Callable[[], Any] | None = None,
        duplicate: bool = True,
        drop: bool = False,
        reorder: bool | str = "per_source",
        delay_ms: tuple[int, int] | None = (0, 50),
        max_examples: int = 100,
    ) -> ExploreResult:
        """Replay the inputs as a broker might deliver them (twice, lost, reordered, late)
        and call ``check()`` after each variation: see :mod:`.explore`."""
        __tracebackhide__ = True
        from .explore import Explorer, explore, perturbations

        self._check_not_missing()
        p = perturbations(duplicate, drop, reorder, delay_ms, max_examples)
        return explore(Explorer(self, check, setup, p))

    async def explore_async(
        self,
        check: Callable[[], Any],
        *,
        setup: Callable[[], Any] | None = None,
        duplicate: bool = True,
        drop: bool = False,
        reorder: bool | str = "per_source",
        delay_ms: tuple[int, int] | None = (0, 50),
        max_examples: int = 100,
    ) -> ExploreResult:
        """:meth:`explore` for asyncio buses; ``check`` and ``setup`` may be coroutines."""
        __tracebackhide__ = True
        from .explore import Explorer, explore_async, perturbations

        self._check_not_missing()
        p = perturbations(duplicate, drop, reorder, delay_ms, max_examples)
        return await explore_async(Explorer(self, check, setup, p))

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """Nothing the bus carries meanwhile is recorded into this cassette."""
        self.capturing = False
        try:
            yield
        finally:
            self.capturing = True

    def _check_not_missing(self) -> None:
        if self.mode == "missing":
            raise CassetteMissingError(self.path)

    def _note_play(self) -> None:
        if self.mode == "record":
            self._plays.append(self.recorder.elapsed_ms)

    def _next_part(self) -> tuple[EventReplayer, float]:
        """The part of the cassette this play() call replays, and the offset it starts at:
        a test that called play() twice while recording replays each part in turn."""
        assert self._cassette is not None
        try:
            parts = _parts_of(self._cassette, self.shown_path)
        except CassetteError as exc:
            raise CassetteError(
                f"{exc}; re-record it with: {rerecord_command(self.rerun_id)}"
            ) from None
        n, self._played = self._played, self._played + 1
        if n >= len(parts):
            raise RuntimeError(
                f"play() was called {n + 1} times, but the cassette was recorded with "
                f"{len(parts)} play() call(s); re-record it with: {rerecord_command(self.rerun_id)}"
            )
        if len(parts) == 1:  # the whole cassette: no copy of its events
            return EventReplayer(self._cassette), 0.0
        # By time, not by position: new_episodes may add events anywhere.
        start_ms = parts[n] if n else 0.0  # part 1 also holds what came before play()
        end_ms = parts[n + 1] if n + 1 < len(parts) else math.inf
        events = [e for e in self._cassette.events if start_ms <= e.timestamp_offset_ms < end_ms]
        return EventReplayer(self._cassette.with_events(events)), start_ms

    @contextlib.contextmanager
    def _noting_a_crash(self, replayer: EventReplayer) -> Iterator[None]:
        """Remember the exception that stopped a replay while it published an input (a
        subscriber's, usually): the outputs it never produced are not differences."""
        try:
            yield
        except Exception as exc:
            inputs = [e for e in replayer if self._is_input(e)]
            if replayer.position < len(inputs):  # position: how many were published
                self._crash = exc, inputs[replayer.position]
            raise

    def _crash_report(self, *, traceback_too: bool) -> str:
        assert self._crash is not None
        assert self._cassette is not None
        error, event = self._crash
        inputs = [e for e in self._cassette.events if self._is_input(e)]
        number = next(n for n, e in enumerate(inputs, 1) if e is event or e == event)
        lines = [
            f"the replay stopped at input #{number} of {len(inputs)} ({event.event_name!r} "
            f"at {event.timestamp_offset_ms:g} ms in {self.shown_path}): publishing it raised "
            f"{type(error).__name__}: {error}",
        ]
        if traceback_too:
            lines.append("".join(traceback.format_exception(error)).rstrip())
        lines.append(
            "The outputs after it were never produced, so they were not compared. Fix the "
            "error and run the test again: the cassette is not the problem."
        )
        return "\n".join(lines)

    def _speed(self, speed: float | None) -> float:
        return self.options.speed if speed is None else speed

    # ------------------------------------------------------------------ recording

    def _before_record(self, event: RecordedEvent) -> RecordedEvent | None:
        """Hook, then ``before_record_event``, then redaction; a failing hook drops the event
        (it may have been about to redact it) and fails the test."""
        if not self.capturing:
            return None
        try:
            kept = self._apply_hooks(event)
        except Exception as exc:
            self.errors.append(exc)
            return None
        if kept is None:
            return None
        if self._redact:
            kept = replace(kept, event_data=replace_fields(kept.event_data, self._redact, REDACTED))
        return self._causes.noted(kept)

    def _apply_hooks(self, event: RecordedEvent) -> RecordedEvent | None:
        """The conftest hook (``None``: no opinion, as pluggy hooks go), then the marker's
        ``before_record_event`` (``None`` drops, as vcrpy's ``before_record`` does)."""
        answer = None if self._hook is None else self._hook(event)
        if answer is not None:
            kept = kept_by(answer, event, CONFTEST_HOOK, "False (drop) or None (no opinion)")
            if kept is None:
                return None
            event = kept
        before = self.options.before_record_event
        return event if before is None else kept_by(before(event), event, "before_record_event")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Attach to the bus (not when running live, nor without a cassette to replay)."""
        skipped = self._skipped_inputs()
        if skipped is not None:
            causes = self._causes if isinstance(self.recorder, _CausingRecorder) else None
            adapter = adapter_for(self.bus)
            if type(adapter) in _IN_PROCESS:  # the replay's own would be the same: 50 us
                self._replay_into = adapter
            outputs = _Outputs(adapter, skipped, self, causes)
            self.recorder.start_recording(outputs)
        elif self.mode in ("record", "replay", "live"):
            # live: nothing is saved or compared, but .events still shows what the bus carried
            self.recorder.start_recording(self.bus)

    def verify(self) -> str | None:
        """The failure report for this test, or ``None`` when everything matched."""
        if self.errors:
            error = self.errors[0]
            return f"a before_record_event hook failed: {type(error).__name__}: {error}"
        if not self.verifies:
            return None
        if self._in_step():  # the full comparison would find nothing to report or append
            self._appended = None
            return None
        comparison, captured = self._compare()
        self._warn_unmatched(comparison.unmatched_paths, "ignore_fields")
        self._warn_unmatched(comparison.unmatched_match_on, "match_on")
        matched = [path for path, _ in self.options.matchers]
        every = [*(self._cassette.events if self._cassette else ()), *captured]
        self._warn_unmatched(unmatched_paths(matched, every), "matchers")
        differences = comparison.differences
        if self.options.record_mode == "new_episodes" and all(
            d.kind == "unexpected" for d in differences
        ):
            self._appended = self._with_new_events(captured, comparison) if differences else None
            return None
        slow = self._causes.slow(self.options.max_latency_ms, comparison, captured)
        if not differences:
            hint = "If the new timing is intended, raise max_latency_ms or re-record with: "
            return slow and f"{slow}\n\n{hint}{rerecord_command(self.rerun_id)}"
        if self._crash is not None:
            return self._crash_report(traceback_too=True)
        report = format_report(
            differences,
            cassette_path=self.shown_path,
            rerecord_hint=rerecord_command(self.rerun_id),
        )
        unknown = self._unknown_inputs(self._cassette.events if self._cassette else ())
        return "\n\n".join(part for part in (report, unknown, slow) if part)

    def _unknown_inputs(self, events: Sequence[RecordedEvent]) -> str | None:
        """A note when ``inputs`` names events the cassette never holds (a typo, often)."""
        names = self.options.inputs
        if not isinstance(names, tuple):
            return None
        held = {e.event_name for e in events}
        unknown = [n for n in names if n not in held]
        if not unknown:
            return None
        return (
            f"note: inputs names {', '.join(map(repr, unknown))}, which this cassette never "
            f"holds (it holds: {', '.join(sorted(held)) or 'no events'})"
        )

    def failure_section(self) -> tuple[str, str] | None:
        """(title, text) of a report section for a test that raised, or ``None``: how the
        outputs so far differ from the cassette, or where its replay crashed."""
        if self._crash is not None:
            return "event replay", self._crash_report(traceback_too=False)
        if not self.differences():
            return None
        return "event differences", self.verify() or ""

    def differences(self) -> list[Difference]:
        """How this test's outputs differ from the recorded ones (empty when not verifying)."""
        return self._compare()[0].differences if self.verifies else []

    def _compare(self) -> tuple[Comparison, list[RecordedEvent]]:
        assert self._cassette is not None
        opts, is_input = self.options, self._is_input
        # The events built here and the comparison's views hold no cycles, and every
        # collection meanwhile would walk the whole cassette again (a third of a
        # 100k-event verification).
        with gc_paused():
            captured = self.recorder.events
            comparison = compare_outputs(
                self._cassette,
                [e for e in self._cassette.events if not is_input(e)],
                [e for e in captured if not is_input(e)],
                match_on=opts.match_on,
                ordered=opts.ordered,
                ignore_fields=opts.ignore_fields,
                matchers=self._match_rules,
                replayed=self._played > 0,
            )
        return comparison, captured

    def _in_step(self) -> bool:
        """Whether the outputs are the recorded ones, in order and with their causes, read
        without building the events; only when nothing but ``match_on`` judges them (no
        ignored field, matcher or latency budget) and ``inputs`` names the inputs."""
        opts = self.options
        names = opts.inputs
        if opts.ignore_fields or opts.matchers or opts.max_latency_ms is not None:
            return False
        if not isinstance(names, tuple) or self._cassette is None:
            return False
        kept = self.recorder.kept_fields()
        if kept is None:
            return False
        expected = [e for e in self._cassette.events if e.event_name not in names]
        actual = [f for f in kept if f[0] not in names]
        with gc_paused():  # a tuple per output compared, and no cycle: see _compare()
            return outputs_in_step(expected, actual, opts.match_on)

    def _with_new_events(self, captured: list[RecordedEvent], comparison: Comparison) -> Cassette:
        assert self._cassette is not None
        new = _placed_new_events(
            self._cassette, captured, comparison.pairs, self._is_input, self._time.stamp
        )
        events = sorted([*self._cassette.events, *new], key=lambda e: e.timestamp_offset_ms)
        return self._cassette.with_events(reindexed(self._cassette.events, events))

    def produced(self) -> Cassette:
        """What this replay produced, on the cassette's clock (a pending cassette)."""
        from .pending_run import produced_cassette

        assert self._cassette is not None
        comparison, captured = self._compare()
        return produced_cassette(self._cassette, captured, comparison.pairs, self._is_input)

    def stop(self) -> None:
        """Detach from the bus (at the fixture's teardown): nothing more is recorded. The
        events are built only when asked for: a replay that passed never needs them."""
        self.recorder.halt()
        self._causes.stop()

    def save(self, *, passed: bool, why: str = "the test did not pass") -> None:
        """Once the test is torn down: write what it recorded (atomically), if it passed;
        ``why`` says in the log why a recording was not saved."""
        if not passed:
            self._unshare()  # a match hook, or the test, may have changed its data
            if self.is_recording:
                log.warning("Not saving %s: %s", self.shown_path, why)
            return
        if self.is_recording:
            if len(self._plays) > 1:
                self.recorder.metadata[PLAYS] = list(self._plays)
            cassette = self.recorder.to_cassette()
            write_cassette(self.path, cassette)
            self._warn_if_hollow(cassette)
            self._warn_unmatched(unmatched_paths(self.options.redact, cassette.events), "redact")
            log.info("Recorded %d events to %s", len(self.recorder.events), self.path)
        elif self._appended is not None:
            write_cassette(self.path, self._appended)
            log.info("Appended new events to %s", self.path)

    def _warn_if_hollow(self, cassette: Cassette) -> None:
        """A cassette with no events, or without the named inputs, replays nothing: say so
        now, not after it has passed in CI for months."""
        if not cassette.events:
            problem = (
                f"recorded no events: is the {self.options.bus!r} fixture the bus your code "
                "publishes on, and did play() get a live= function?"
            )
        else:
            problem = self._unknown_inputs(cassette.events) or ""
        if problem:
            warnings.warn(EventCassetteWarning(f"{self.shown_path}: {problem}"), stacklevel=1)

    def _warn_unmatched(self, paths: Sequence[str], what: str) -> None:
        """A path that names no field ignores or hides nothing: a typo, usually."""
        for path in paths:
            note = unmatched_note(path, what)
            warnings.warn(EventCassetteWarning(f"{self.shown_path}: {note}"), stacklevel=1)


class EventCassetteWarning(pytest.PytestWarning):
    """A cassette was recorded, but probably not the one the test meant to record."""


def _parts_of(cassette: Cassette, shown: str) -> list[float]:
    """When each recorded play() call began: ``metadata.plays`` when there were several."""
    plays = cassette.header.metadata.get(PLAYS)
    if plays is None:
        return [0.0]
    if not isinstance(plays, list) or not plays or not all(map(_is_offset, plays)):
        plays = None
    if plays is None or plays != sorted(plays):
        raise CassetteError(
            f"metadata.{PLAYS} must list, in order, the offsets (ms) at which each play() "
            "call began",
            path=shown,
        )
    return [float(at) for at in plays]


def _is_offset(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < math.inf


_IN_PROCESS = frozenset((MethodAdapter, ServiceBusAdapter))
"""Adapters a replay may share with the recorder: they own no connection (nothing to open,
flush or close) and look the bus's method up on every publish."""


class _Outputs:
    """The bus's adapter, passing all but the injected inputs on to the recorder: they
    are never compared, and dropping them before the recorder snapshots them halves the
    capture cost of a replay. Nothing passes while the cassette is muted; with ``causes``,
    each output gets its cause on the way (see :class:`_CausingRecorder`)."""

    def __init__(
        self,
        adapter: BusAdapter,
        inputs: frozenset[str],
        cassette: EventCassette,
        causes: CauseNotes | None,
    ) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self.inputs = inputs
        self.cassette = cassette
        self.causes = causes

    def attach(self, sink: EventSink) -> None:
        inputs, cassette, causes = self.inputs, self.cassette, self.causes
        # With causes, the sink is the _CausingRecorder's own _keep (see start()).
        keep = cast(_FreshSink, sink)

        def outputs(
            event_name: str,
            event: object,
            source: str | None = None,
            metadata: Mapping[str, JSONValue] | None = None,
            *,
            received_ns: int | None = None,
        ) -> None:
            if event_name in inputs or not cassette.capturing:
                return
            if causes is None:
                sink(event_name, event, source, metadata, received_ns=received_ns)
                return
            cause = causes.cause_now()
            if metadata is None and cause is not None:  # made here: no snapshot needed
                made = {CAUSED_BY: cause}
                keep(event_name, event, source, made, received_ns=received_ns, fresh=True)
                return
            sink(event_name, event, source, _with_cause(metadata, cause), received_ns=received_ns)

        # A broker's adapter keeps no payload bytes holding what the recorder redacts.
        outputs.redaction = redaction_of(sink)  # type: ignore[attr-defined]
        self.adapter.attach(outputs)

    def detach(self) -> None:
        self.adapter.detach()

    def publish(self, event: RecordedEvent, payload: object) -> Any:
        return self.adapter.publish(event, payload)

    def close(self) -> None:
        self.adapter.close()


class _FreshSink(Protocol):
    """:meth:`EventRecorder._keep`, which keeps ``fresh`` metadata without a snapshot."""

    def __call__(
        self,
        event_name: str,
        event: object,
        source: str | None,
        metadata: Mapping[str, JSONValue],
        *,
        received_ns: int | None,
        fresh: bool,
    ) -> object: ...


def _with_cause(
    metadata: Mapping[str, JSONValue] | None, cause: int | None
) -> Mapping[str, JSONValue] | None:
    return metadata if cause is None else {**(metadata or {}), CAUSED_BY: cause}


class _CausingRecorder(EventRecorder):
    """The recorder of a plain replay (no hook, no field to redact): each output gets its
    cause, and nothing is kept while the cassette is muted, as the ``before_record`` hook
    would see to, here for events recorded by hand and in :class:`_Outputs` for the bus's."""

    def __init__(
        self,
        cassette: EventCassette,
        causes: CauseNotes,
        inputs: frozenset[str],
        redaction: Redaction,
    ) -> None:
        path = cassette.path
        meta = {"test": cassette.nodeid}
        super().__init__(path.stem, path.parent, metadata=meta, redaction=redaction)
        self.cassette = cassette
        self.causes = causes
        self.inputs = inputs

    def record(
        self,
        event_name: str,
        event: object,
        source: str | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
    ) -> RecordedEvent | None:
        if not self.cassette.capturing:
            return None
        if str(event_name) not in self.inputs:
            metadata = _with_cause(metadata, self.causes.cause_now())
        return super().record(event_name, event, source, metadata)


def _placed_new_events(
    cassette: Cassette,
    captured: list[RecordedEvent],
    pairs: dict[int, int],
    is_input: InputSelector,
    stamp: Callable[[RecordedEvent], float | None] = lambda _event: None,
) -> list[RecordedEvent]:
    """Unexpected outputs given offsets on the cassette's clock: just after the recorded
    event their predecessor in this run corresponds to, so a re-run matches in order;
    under ``clock="recorded"`` the recorded time they were published at (``stamp``)."""
    inputs = [e for e in cassette.events if is_input(e)]
    outputs = [e for e in cassette.events if not is_input(e)]
    at, n_in, n_out, new = 0.0, 0, 0, []
    for event in captured:
        if is_input(event):
            at = inputs[n_in].timestamp_offset_ms if n_in < len(inputs) else at
            n_in += 1
            continue
        if n_out in pairs:
            at = outputs[pairs[n_out]].timestamp_offset_ms
        else:
            recorded_at = stamp(event)
            at = at + _NEW_EVENT_GAP_MS if recorded_at is None else recorded_at
            new.append(replace(event, timestamp_offset_ms=round(at, 6)))
        n_out += 1
    return new


def _close(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):
        close()  # silence "coroutine was never awaited"; the TypeError says what to do


# --------------------------------------------------------------------------- event_replay


class CassetteReplay(EventReplayer):
    """The ``event_replay`` fixture: an :class:`EventReplayer` for the test's cassette, bound
    to the test's bus, which also captures what the code under test publishes there."""

    def __init__(
        self,
        path: Path,
        bus: object,
        *,
        speed: float,
        events_module: str | None,
        inputs: InputSelector | None = None,
        redaction: Redaction | None = None,
        clock: str | None = None,
    ) -> None:
        super().__init__(path)
        self.bus = bus
        self.speed = speed
        self.clock_option = clock
        """The marker's ``clock=`` (``self.clock`` paces the replay)."""
        self.events_module = events_module
        self.inputs = inputs
        """Which events :meth:`play` replays (the marker's ``inputs=``; ``None``: all)."""
        self.capture = EventRecorder(
            path.stem, path.parent, redaction=redaction or DEFAULT_REDACTION
        )
        self.replayed: list[RecordedEvent] = []
        """The events :meth:`play` published, left out of :meth:`published`."""

    def play(self, **kwargs: Any) -> ReplayResult:
        """Replay the cassette into the test's bus: its inputs when the marker names them,
        else every event (``replay`` keyword arguments apply, ``where=`` included)."""
        chosen = self._choosing(kwargs)
        result = self.replay(self.bus, **kwargs)
        self.replayed.extend(chosen[: result.published])
        return result

    async def play_async(self, **kwargs: Any) -> ReplayResult:
        """:meth:`play` for asyncio buses."""
        chosen = self._choosing(kwargs)
        result = await self.replay_async(self.bus, **kwargs)
        self.replayed.extend(chosen[: result.published])
        return result

    def _choosing(self, kwargs: dict[str, Any]) -> list[RecordedEvent]:
        """Sets ``play``'s defaults in ``kwargs``; returns the list that will hold, in
        order, the events the replay picks (it picks each once, just before publishing)."""
        kwargs.setdefault("speed_multiplier", self.speed)
        kwargs.setdefault("events_module_name", self.events_module)
        kwargs.setdefault("clock", self.clock_option)
        chosen: list[RecordedEvent] = []
        tests = [t for t in (self.inputs, kwargs.get("where")) if t is not None]

        def pick(event: RecordedEvent) -> bool:
            if all(test(event) for test in tests):
                chosen.append(event)
                return True
            return False

        kwargs["where"] = pick
        return chosen

    def published(self, event_name: str | None = None) -> list[RecordedEvent]:
        """What the code under test published during the test, optionally only
        ``event_name``: everything the bus carried except what :meth:`play` replayed."""
        replayed = Counter(_identity(e) for e in self.replayed)
        found = []
        for event in self.capture.events:
            key = _identity(event)
            if replayed[key]:
                replayed[key] -= 1
            elif event_name in (None, event.event_name):
                found.append(event)
        return found

    def assert_published(self, event_name: str, *, count: int | None = None) -> list[RecordedEvent]:
        """Fail unless the code under test published ``event_name`` (exactly ``count``
        times, if given); events :meth:`play` replayed do not count."""
        found = self.published(event_name)
        if len(found) != count if count is not None else not found:
            seen = sorted({e.event_name for e in self.published()}) or ["nothing"]
            wanted = "at least once" if count is None else f"{count} time(s)"
            raise AssertionError(
                f"expected {event_name!r} published {wanted}, got {len(found)}; "
                f"the code under test published: {', '.join(seen)} "
                f"(the {len(self.replayed)} events play() replayed are not counted)"
            )
        return found

    def assert_not_published(self, event_name: str) -> None:
        """Fail if the code under test published ``event_name`` (replayed events aside)."""
        found = self.published(event_name)
        if found:
            raise AssertionError(f"{event_name!r} was published {len(found)} time(s): {found[0]}")


def _identity(event: RecordedEvent) -> tuple[str, str | None, object]:
    """What tells a replayed event from another: name, source and data (a replayed typed
    event may come back with 1.0 for 1, never with True for 1)."""
    return event.event_name, event.source, _frozen(event.event_data)


def _frozen(data: object) -> object:
    if isinstance(data, dict):
        return ("dict", frozenset((k, _frozen(v)) for k, v in data.items()))
    if isinstance(data, list):
        return ("list", tuple(_frozen(v) for v in data))
    return ("bool", data) if isinstance(data, bool) else data
