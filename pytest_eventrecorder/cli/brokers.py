"""``eventrecorder record`` and ``eventrecorder replay``: a broker's traffic to a cassette
and back (any bus URL a registered adapter understands).

Exit status: 0 done (``record`` stopped by Ctrl-C, SIGTERM or a limit); 2 the command
could not run or the broker failed (``record`` still saves what it received);
130 ``replay`` was interrupted.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import click

from ..adapters import adapter_for
from ..adapters.base import BusAdapter
from ..adapters.brokers import MissingClientError, redact
from ..cassette import CassetteError, RecordedEvent
from ..formats import cassette_format
from ..recorder import EventRecorder
from ..replayer import EventReplayer
from ..serialize import DEFAULT_REDACT_KEYS, DEFAULT_REDACTION, NO_REDACTION, Redaction
from .errors import CliError
from .inputs import input_path, refuse_existing
from .notes import reading

EXIT_INTERRUPTED = 130
_POLL_S = 0.2
DRAIN_QUIET_S = 0.3
"""On stop, recording goes on until nothing has arrived for this long ..."""
DRAIN_MAX_S = 5.0
"""... or for this long at most."""
PARTIAL_SUFFIX = ".partial.jsonl"


def _shown(adapter: BusAdapter, url: str) -> str:
    """The URL with its password masked, as the adapter knows best."""
    known = getattr(getattr(adapter, "url", None), "redacted", None)
    return known if isinstance(known, str) else redact(url)


@contextlib.contextmanager
def _on_stop_signals(handler: Callable[[], None]) -> Iterator[None]:
    """Call ``handler`` on SIGINT/SIGTERM instead of dying (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        handler()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _command_errors() -> Iterator[None]:
    """Connection, URL and file problems as one clear line."""
    try:
        yield
    except click.ClickException:
        raise
    except (ConnectionError, MissingClientError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)) from None


def _with_channels(url: str, channels: Sequence[str]) -> str:
    if not channels:
        return url
    extra = "&".join(f"channel={quote(c, safe='*>+/.$:')}" for c in channels)
    return f"{url}{'&' if '?' in url else '?'}{extra}"


# --------------------------------------------------------------------------- record


class _Limit:
    """Counts recorded events (as the ``before_record`` hook, with ``--max-events``); past
    ``max_events`` it drops them and asks to stop."""

    def __init__(self, max_events: int | None, stop: threading.Event) -> None:
        self.max_events = max_events
        self.count = 0
        self.stop = stop
        self._lock = threading.Lock()

    @property
    def reached(self) -> bool:
        return self.max_events is not None and self.count >= self.max_events

    def __call__(self, event: RecordedEvent) -> RecordedEvent | None:
        with self._lock:
            if self.max_events is not None and self.count >= self.max_events:
                return None
            self.count += 1
            if self.count == self.max_events:
                self.stop.set()
        return event


@click.command("record")
@click.option(
    "--from",
    "url",
    required=True,
    metavar="URL",
    help="Broker to record from: redis://, nats://, mqtt://, amqp://... (see the docs).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cassette to write (.json, .yaml, .jsonl, each + .gz).",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after this long.",
)
@click.option("--max-events", type=click.IntRange(min=1), metavar="N", help="Stop after N events.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="PATTERN",
    help="Record only these channels, in the broker's wildcard syntax (repeatable).",
)
@click.option("--session", "session_name", metavar="NAME", help="Default: the file's name.")
@click.option("-f", "--force", is_flag=True, help="Replace the cassette if it exists.")
@click.option(
    "--redact-key",
    "redact_keys",
    multiple=True,
    metavar="WORD",
    help="Also record values under keys with this word as [REDACTED] (repeatable).",
)
@click.option(
    "--no-redact", is_flag=True, help="Keep values under credential-like keys (off by default)."
)
def record(
    url: str,
    output: Path,
    duration: float | None,
    max_events: int | None,
    channels: tuple[str, ...],
    session_name: str | None,
    force: bool,
    redact_keys: tuple[str, ...],
    no_redact: bool,
) -> None:
    """Record everything a broker carries into a cassette.

    Stops on Ctrl-C, SIGTERM, --duration or --max-events, then writes the cassette
    atomically. Events are streamed to FILE.partial.jsonl as they arrive (in batches, a
    few milliseconds apart), so a crash loses at most the last few milliseconds; the
    partial file is removed once the cassette is saved.

    \b
    Example:
      eventrecorder record --from redis://localhost:6379/0 -o prod.jsonl --duration 60
    """
    with _command_errors():
        try:
            cassette_format(output)
        except CassetteError as exc:
            raise click.BadParameter(str(exc), param_hint="'-o'") from None
        refuse_existing(output, force=force)
        redaction = _redaction(redact_keys, no_redact)
        partial = output.with_name(output.name + PARTIAL_SUFFIX)
        _refuse_leftover(partial)
        adapter = adapter_for(_with_channels(url, channels))
        shown = _shown(adapter, url)
        stop = threading.Event()
        limit = _Limit(max_events, stop)
        recorder = EventRecorder(
            session_name or output.name.split(".")[0] or "recording",
            output.parent,
            stream_to=partial,
            # without a limit, no hook: it made every message's RecordedEvent twice
            before_record=limit if max_events is not None else None,
            metadata={"recorded_from": shown},
            keep_events=False,  # the partial file holds them: memory stays flat for hours
            redaction=redaction,
        )
        _record_until_stopped(recorder, adapter, limit, duration, shown, partial)
        failure = getattr(adapter, "failure", None)
        path = recorder.save(output.absolute())
        partial.unlink(missing_ok=True)
        saved = recorder.event_count
        click.echo(f"Saved {_events(saved)} to {path}", err=True)
        if failure is not None:
            raise CliError(f"{failure}; the {_events(saved)} received before were saved")


def _redaction(extra: Sequence[str], off: bool) -> Redaction:
    if off and extra:
        raise click.UsageError("--no-redact and --redact-key contradict each other")
    if off:
        return NO_REDACTION
    return Redaction([*DEFAULT_REDACT_KEYS, *extra]) if extra else DEFAULT_REDACTION


def _refuse_leftover(partial: Path) -> None:
    """An earlier recording that did not finish left its only copy of the events there."""
    if partial.exists():
        raise CliError(
            f"{partial} holds the events of an earlier recording that did not finish. Keep "
            f"them (eventrecorder convert {partial} <cassette>) or move the file away, then "
            "record again"
        )


def _record_until_stopped(
    recorder: EventRecorder,
    adapter: BusAdapter,
    limit: _Limit,
    duration: float | None,
    shown: str,
    partial: Path,
) -> None:
    stop = limit.stop
    deadline = math.inf if duration is None else time.monotonic() + duration
    hurry = threading.Event()
    with _on_stop_signals(lambda: (hurry if stop.is_set() else stop).set()):
        try:
            recorder.start_recording(adapter)
        except BaseException:
            adapter.close()
            recorder.halt()
            partial.unlink(missing_ok=True)
            raise
        click.echo(f"Recording {shown} (streaming to {partial}); Ctrl-C to stop", err=True)
        try:
            while not stop.wait(_POLL_S):
                if time.monotonic() >= deadline or getattr(adapter, "failure", None):
                    break
            signalled = stop.is_set() and not limit.reached  # not --duration, not the limit
            if signalled and not getattr(adapter, "failure", None):
                _drain(recorder, hurry)
        finally:
            recorder.halt()
            adapter.close()


def _drain(recorder: EventRecorder, hurry: threading.Event) -> None:
    """Record what the broker had already sent when told to stop (it may still sit in the
    client's buffers): wait until nothing new arrives for a moment, or Ctrl-C again."""
    click.echo("Stopping: recording what the broker already sent (Ctrl-C again: now)", err=True)
    deadline = time.monotonic() + DRAIN_MAX_S
    seen, quiet_since = recorder.event_count, time.monotonic()
    while not hurry.wait(_POLL_S / 4) and time.monotonic() < deadline:
        count = recorder.event_count
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since >= DRAIN_QUIET_S:
            return


# --------------------------------------------------------------------------- replay


def _speed(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    if value.lower() in ("max", "inf"):
        return math.inf
    try:
        speed = float(value)
    except ValueError:
        speed = -1.0
    if not speed > 0:
        raise click.BadParameter(f"{value!r} is not a positive number or 'max'")
    return speed


def _is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


class _Progress:
    """A progress bar on stderr, drawn only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None
        self._shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            bar = click.progressbar(length=max(total, done), label=self.label, file=sys.stderr)
            self._bar = bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@click.command("replay")
@click.argument("file")
@click.option("--to", "url", required=True, metavar="URL", help="Broker to publish into.")
@click.option(
    "--speed",
    default="1",
    callback=_speed,
    metavar="X",
    help="1 = as recorded, 10 = ten times faster, max = no waiting.",
)
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="NAME",
    help="Only events with this name (glob patterns allowed; repeatable).",
)
def replay(file: str, url: str, speed: float, events: tuple[str, ...]) -> None:
    """Publish a cassette's events into a broker, on their recorded schedule (FILE may be
    a quoted glob pattern: the newest match is replayed).

    Each event goes to the channel it was recorded from, with its payload byte for byte
    and its headers, QoS and retain flag where the broker has them.

    \b
    Example:
      eventrecorder replay prod.jsonl --to redis://staging:6379/0 --speed 10
    """
    with _command_errors():
        source = input_path(file)  # the newest match of a pattern; one message when missing
        reading(source)
        replayer = EventReplayer(source)
        keep = _name_filter(events)
        adapter = adapter_for(url)
        shown = _shown(adapter, url)
        progress = _Progress(f"Replaying into {shown}") if _is_tty() else None
        try:
            with _on_stop_signals(replayer.stop):
                result = replayer.replay(
                    adapter, speed, event_filter=keep, progress_callback=progress
                )
        finally:
            if progress is not None:
                progress.close()
            adapter.close()
    if result.stopped:
        total = sum(1 for e in replayer if keep is None or keep(e.event_name))
        click.echo(f"Stopped after {result.published} of {_events(total)} into {shown}", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    click.echo(f"Replayed {_events(result.published)} into {shown}", err=True)


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _name_filter(patterns: Sequence[str]) -> Callable[[str], bool] | None:
    if not patterns:
        return None
    return lambda name: any(fnmatchcase(name, pattern) for pattern in patterns)
