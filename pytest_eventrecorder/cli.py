"""The ``eventrecorder`` command line (also ``python -m pytest_eventrecorder``).

Exit status: 0 success; 1 a check failed (``diff`` found differences, ``validate`` found
problems); 2 the command could not run (bad option, missing or unreadable file, bad cassette).
Errors are one ``Error: ...`` line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import math
import os
import re
import socket
import sys
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .adapters.commands import record, replay
from .cassette import (
    Cassette,
    CassetteError,
    CassetteHeader,
    RecordedEvent,
    collecting_unknown_fields,
    shift_iso,
)
from .config import DEFAULT_CONFIG_FILE, load_config
from .fieldpaths import parse_paths
from .formats import (
    TruncatedCassetteWarning,
    cassette_format,
    is_cassette_path,
    iter_events,
    read_cassette,
    read_header,
    write_events,
)
from .query import Query, QueryError, compile_query
from .replayer import newest_match
from .verify import diff_cassettes, format_report

log = logging.getLogger("pytest_eventrecorder")

T = TypeVar("T")
EXIT_FAILED = 1
EXIT_ERROR = 2
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
"""Files smaller than this finish before a progress bar would be worth drawing."""
MAX_PROBLEMS_PER_FILE = 20
NO_SOURCE = "(none)"
DEBUG_ENV = "EVENTRECORDER_DEBUG"
_DEBUG_KEY = "eventrecorder.debug"
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_PALETTE = ("cyan", "green", "yellow", "magenta", "blue", "bright_red", "bright_green")


class CliError(click.ClickException):
    """A problem that stops a command: one ``Error:`` line on stderr, exit status 2."""

    exit_code = EXIT_ERROR


# --------------------------------------------------------------------------- error handling


class _Guarded:
    """Turns any exception a command raises into one clear line (``--debug``: the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if _debugging(ctx) or _is_broken_pipe(exc):
                raise  # click itself quiets a closed pipe (``eventrecorder timeline x | head``)
            raise CliError(describe_error(exc)) from exc


class _Command(_Guarded, click.Command):
    pass


class _Group(_Guarded, click.Group):
    command_class = _Command


def describe_error(exc: BaseException) -> str:
    """One line naming the file (when known) and the problem."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    if isinstance(exc, ValueError | LookupError) and str(exc):
        return str(exc)
    if isinstance(exc, RecursionError):  # a cassette may nest data deeper than Python can walk
        return "the cassette holds event data nested too deeply to process"
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def _debugging(ctx: click.Context) -> bool:
    if os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes"):
        return True
    return bool(ctx.find_root().meta.get(_DEBUG_KEY))


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE


class _EchoHandler(logging.Handler):
    """Library warnings as ``warning: ...`` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def _setup(ctx: click.Context, debug: bool, color: bool | None) -> None:
    ctx.meta[_DEBUG_KEY] = debug
    ctx.color = False if color is None and "NO_COLOR" in os.environ else color
    handler, level = _EchoHandler(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.WARNING)

    def restore() -> None:
        log.removeHandler(handler)
        log.setLevel(level)

    ctx.call_on_close(restore)
    ctx.with_resource(warnings.catch_warnings())
    # formats logs the same news; the handler above already shows it once
    warnings.simplefilter("ignore", TruncatedCassetteWarning)


def _global_options(prog_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option(
            "--color/--no-color",
            default=None,
            help="Force colour on or off (default: on a terminal only; NO_COLOR is honoured).",
        )(function)
        function = click.option(
            "--debug",
            is_flag=True,
            envvar=DEBUG_ENV,
            help=f"Show the full traceback when a command fails (also ${DEBUG_ENV}=1).",
        )(function)
        return click.version_option(__version__, "-V", "--version", prog_name=prog_name)(function)

    return decorate


@click.group(cls=_Group, context_settings=_CONTEXT)
@_global_options("eventrecorder")
@click.pass_context
def main(ctx: click.Context, debug: bool, color: bool | None) -> None:
    """Inspect, edit, compare, record, replay and serve event cassettes.

    Exit status: 0 success, 1 a check failed (diff found differences, validate found
    problems), 2 the command could not run (bad option, missing or unreadable file).

    \b
    Examples:
      eventrecorder info recordings/session.json
      eventrecorder filter big.jsonl -o orders.jsonl --event 'Order*'
      eventrecorder diff expected.json actual.json --ignore-field timestamp
    """
    _setup(ctx, debug, color)


@click.group(cls=_Group, context_settings=_CONTEXT)
@_global_options("pubsub-tools")
@click.pass_context
def pubsub_tools(ctx: click.Context, debug: bool, color: bool | None) -> None:
    """Developer tools for pub/sub systems (the seed's launcher).

    \b
    Example:
      pubsub-tools event-recorder --config devtools_config.yaml
    """
    _setup(ctx, debug, color)


# --------------------------------------------------------------------------- reading inputs


@dataclass(frozen=True)
class _Input:
    """A cassette opened for reading: its header, and a way to walk its events (again)."""

    path: Path
    header: CassetteHeader
    events: Callable[[], Iterable[RecordedEvent]]
    size: int


def _open_input(name: str | Path) -> _Input:
    """A ``.jsonl`` cassette is only opened (events are streamed); other formats are loaded.
    A quoted glob pattern picks the newest file it matches, as EventReplayer does."""
    path = Path(name)
    if not path.exists() and glob.has_magic(str(path)):
        try:
            path = newest_match(path)
        except FileNotFoundError:
            raise CliError(f"{path}: no file matches") from None
    if not path.exists():
        raise CliError(f"{path}: no such file")
    if path.is_dir():
        raise CliError(f"{path}: is a folder, not a cassette file")
    fmt, _ = cassette_format(path)
    size = path.stat().st_size
    if fmt == "jsonl":
        return _Input(path, read_header(path), lambda: iter_events(path), size)
    cassette = read_cassette(path)
    return _Input(path, cassette.header, lambda: cassette.events, size)


def _check_output(name: str | Path) -> Path:
    path = Path(name)
    if path.is_dir():
        raise CliError(f"{path}: is a folder; name the cassette file to write")
    cassette_format(path)  # an unknown suffix fails now, before a long read
    return path


@contextlib.contextmanager
def _progress(items: Iterable[T], source: _Input, label: str) -> Iterator[Iterable[T]]:
    """A progress bar on stderr for big files on a terminal; nothing when piped or in CI."""
    if not _progress_wanted(source.size):
        yield items
        return
    length = source.header.total_events or None
    with click.progressbar(
        items,
        length=length,
        label=f"{label} {source.path.name}",
        file=sys.stderr,
        update_min_steps=2000,
    ) as bar:
        yield bar


def _progress_wanted(size: int) -> bool:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return size >= PROGRESS_MIN_BYTES and not in_ci and sys.stderr.isatty()


# --------------------------------------------------------------------------- selection


def _parse_where(ctx: click.Context, param: click.Parameter, value: str | None) -> Query | None:
    """Parse ``--where`` when the option is read, so a typo fails before any file is opened."""
    if value is None:
        return None
    try:
        return compile_query(value)
    except QueryError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _check_millis(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value!r} must be a finite number >= 0", ctx, param)
    return value


WHERE_HELP = "Only events matching EXPR, e.g. 'event_data.price > 100 and source == \"Bot\"'."


def _name_matcher(patterns: Sequence[str]) -> Callable[[str | None], bool]:
    """Exact names or glob patterns (``Order*``), compiled into one regular expression."""
    regex = re.compile("|".join(f"(?:{translate(p)})" for p in patterns))
    return lambda name: name is not None and regex.match(name) is not None


def _selector(
    events: Sequence[str] = (),
    excluded: Sequence[str] = (),
    sources: Sequence[str] = (),
    where: Query | None = None,
    window: tuple[float, float] = (0.0, math.inf),
) -> Callable[[RecordedEvent], bool]:
    tests: list[Callable[[RecordedEvent], bool]] = []
    if events:
        wanted = _name_matcher(events)
        tests.append(lambda e: wanted(e.event_name))
    if excluded:
        unwanted = _name_matcher(excluded)
        tests.append(lambda e: not unwanted(e.event_name))
    if sources:
        from_source = _name_matcher(sources)
        tests.append(lambda e: from_source(e.source))
    if window != (0.0, math.inf):
        start, end = window
        tests.append(lambda e: start <= e.timestamp_offset_ms < end)
    if where is not None:
        tests.append(where)
    return lambda event: all(test(event) for test in tests)


# --------------------------------------------------------------------------- info


@main.command(short_help="Summarize cassettes: session, duration, counts.")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (one object per file).")
@click.pass_context
def info(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Summarize cassettes: session, start, duration, counts per event name and per source.

    .jsonl cassettes are streamed line by line, so million-event files never sit in memory.
    In --json output, events without a source are counted under "(none)".

    \b
    Examples:
      eventrecorder info recordings/session.json
      eventrecorder info --json recordings/*.jsonl | jq '.[].total_events'
    """
    summaries, failed = [], False
    for name in _matching(files):
        try:
            summary = _summarize(_open_input(name))
        except (CliError, CassetteError, OSError) as exc:
            _echo_error(exc)
            failed = True
            continue
        summaries.append(summary)
        if not as_json:
            _print_summary(summary, first=len(summaries) == 1)
    if as_json:
        click.echo(_json_text(summaries))
    ctx.exit(EXIT_ERROR if failed else 0)


def _echo_error(exc: Exception) -> None:
    message = exc.format_message() if isinstance(exc, click.ClickException) else describe_error(exc)
    click.echo(f"Error: {message}", err=True)


def _summarize(source: _Input) -> dict[str, Any]:
    names: Counter[str] = Counter()
    sources: Counter[str | None] = Counter()
    last = 0.0
    with _progress(source.events(), source, "reading") as events:
        for event in events:
            names[event.event_name] += 1
            sources[event.source] += 1
            if event.timestamp_offset_ms > last:
                last = event.timestamp_offset_ms
    fmt, gz = cassette_format(source.path)
    header = source.header
    return {
        "file": str(source.path),
        "format": fmt + (".gz" if gz else ""),
        "size_bytes": source.size,
        "version": header.version,
        "session_name": header.session_name,
        "start_time": header.start_time,
        "duration_ms": max(header.duration_ms, last),
        "total_events": names.total(),
        "metadata": dict(header.metadata),
        "event_names": dict(names.most_common()),
        "sources": {NO_SOURCE if k is None else k: n for k, n in sources.most_common()},
    }


def _print_summary(summary: dict[str, Any], *, first: bool) -> None:
    if not first:
        click.echo()
    click.secho(summary["file"], bold=True)
    rows = [
        ("session", _shown(summary["session_name"]) or "(unnamed)"),
        ("started", summary["start_time"] or "(unknown)"),
        ("duration", _human_ms(summary["duration_ms"])),
        ("events", str(summary["total_events"])),
        (
            "format",
            f"{summary['format']}, version {summary['version']}, "
            f"{_human_bytes(summary['size_bytes'])}",
        ),
    ]
    for label, value in rows:
        click.echo(f"  {label:<12} {value}")
    for title, counts in (("event names", summary["event_names"]), ("sources", summary["sources"])):
        click.echo(f"  {title:<12} {len(counts)}")
        for key, count in counts.items():
            click.echo(f"    {count:>9}  {_shown(key)}")


def _json_text(value: object) -> str:
    """Indented JSON for ``--json``; a lone surrogate in recorded text (no UTF-8 form) is
    written as its ``\\udXXX`` escape, as cassettes write it."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _shown(text: str) -> str:
    """Recorded text made safe for a terminal: control characters appear escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _human_ms(ms: float) -> str:
    if ms < 1000:
        return f"{ms:g} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{seconds:06.3f} ({ms:g} ms)"


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- timeline


@main.command(short_help="Print one line per event (coloured on a terminal).")
@click.argument("file")
@click.option(
    "-n",
    "--max-events",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Show at most N events; 0 shows them all.",
)
@click.option(
    "--event",
    "event_names",
    multiple=True,
    metavar="NAME",
    help="Only this event name (a glob like 'Order*' works); repeatable.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="S",
    help="Only events from this source (globs work); repeatable.",
)
@click.option("--where", metavar="EXPR", callback=_parse_where, help=WHERE_HELP)
def timeline(
    file: str,
    max_events: int,
    event_names: tuple[str, ...],
    sources: tuple[str, ...],
    where: Query | None,
) -> None:
    """Print one line per event: index, offset, name, source.

    Coloured on a terminal, plain when piped. .jsonl cassettes are streamed, so the
    first lines of a huge file appear at once.

    \b
    Examples:
      eventrecorder timeline recordings/session.json
      eventrecorder timeline big.jsonl --event 'Order*' --source TradingBot -n 0
    """
    source = _open_input(file)
    keep = _selector(event_names, (), sources, where)
    filtered = bool(event_names or sources or where)
    matching = ((i, e) for i, e in enumerate(source.events()) if keep(e))
    shown = 0
    for index, event in matching:
        if max_events and shown == max_events:
            click.echo(
                f"... more events follow; showing the first {max_events} "
                "(--max-events 0 shows all)",
                err=True,
            )
            return
        click.echo(_timeline_line(index, event))
        shown += 1
    if shown == 0:
        click.echo("(no matching events)" if filtered else "(no events)", err=True)


def _timeline_line(index: int, event: RecordedEvent) -> str:
    color = _PALETTE[zlib.crc32(event.event_name.encode("utf-8", "surrogatepass")) % len(_PALETTE)]
    return "  ".join(
        (
            click.style(f"{index:>7}", dim=True),
            f"{event.timestamp_offset_ms:>13.3f} ms",
            click.style(f"{_shown(event.event_name):<32}", fg=color, bold=True),
            click.style(_shown(event.source or "-"), dim=event.source is None),
        )
    )


# --------------------------------------------------------------------------- filter


@main.command("filter", short_help="Write a cassette with only the events you pick.")
@click.argument("file")
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="OUT",
    help="The cassette to write; its suffix picks the format.",
)
@click.option(
    "--event",
    "event_names",
    multiple=True,
    metavar="NAME",
    help="Keep this event name (a glob like 'Order*' works); repeatable.",
)
@click.option(
    "--exclude-event",
    "excluded",
    multiple=True,
    metavar="NAME",
    help="Drop this event name (globs work); repeatable.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="S",
    help="Keep events from this source (globs work); repeatable.",
)
@click.option(
    "--from-ms",
    type=float,
    metavar="MS",
    callback=_check_millis,
    help="Keep events at or after this offset.",
)
@click.option(
    "--to-ms",
    type=float,
    metavar="MS",
    callback=_check_millis,
    help="Keep events before this offset.",
)
@click.option("--where", metavar="EXPR", callback=_parse_where, help=WHERE_HELP)
@click.option(
    "--rebase/--no-rebase",
    default=True,
    show_default=True,
    help="With --from-ms, move offsets (and the start time) so the slice starts at 0.",
)
@click.option("--session-name", default=None, help="Name the new session (default: keep it).")
def filter_command(
    file: str,
    output: str,
    event_names: tuple[str, ...],
    excluded: tuple[str, ...],
    sources: tuple[str, ...],
    from_ms: float | None,
    to_ms: float | None,
    where: Query | None,
    rebase: bool,
    session_name: str | None,
) -> None:
    """Write a new cassette with the events of FILE that pass every filter given.

    With --from-ms, offsets are rebased so the slice starts at 0 ms and start_time moves
    forward to match (--no-rebase keeps both). A .jsonl FILE is streamed, never loaded
    whole (it is read twice when OUT is .jsonl, to write an exact header first).

    \b
    Examples:
      eventrecorder filter session.json -o orders.json --event 'Order*'
      eventrecorder filter big.jsonl -o burst.jsonl.gz --from-ms 60000 --to-ms 120000
      eventrecorder filter s.yaml -o big-trades.yaml --where 'event_data.size >= 10'
    """
    window = (from_ms or 0.0, math.inf if to_ms is None else to_ms)
    if window[1] <= window[0]:
        raise click.BadParameter(
            f"must be greater than --from-ms ({window[0]:g})", param_hint="--to-ms"
        )
    out = _check_output(output)
    source = _open_input(file)
    keep = _selector(event_names, excluded, sources, where, window)
    shift = -window[0] if rebase else 0.0

    def selected(tally: Counter[str]) -> Iterator[RecordedEvent]:
        for event in source.events():
            tally["read"] += 1
            if keep(event):
                tally["kept"] += 1
                yield event.shifted(shift) if shift else event

    header = _derived_header(
        source.header, window, shift, session_name, lambda: selected(Counter()), out
    )
    tally = Counter[str]()
    with _progress(selected(tally), source, "filtering") as events:
        write_events(out, header, events)
    click.echo(f"wrote {tally['kept']} of {tally['read']} events to {out}", err=True)


def _derived_header(
    header: CassetteHeader,
    window: tuple[float, float],
    shift: float,
    session_name: str | None,
    selected: Callable[[], Iterable[RecordedEvent]],
    out: Path,
) -> CassetteHeader:
    """The new header; a .jsonl header is written first, so count the selection beforehand
    (other formats are recounted by the writer)."""
    total, last = 0, 0.0
    if cassette_format(out)[0] == "jsonl":
        for event in selected():
            total += 1
            last = max(last, event.timestamp_offset_ms)
    # Without a time window it is the same session, however few events are kept; a time
    # window lasts until its last event, as EventReplayer.slice() has it.
    duration = header.duration_ms if window == (0.0, math.inf) else 0.0
    return CassetteHeader(
        session_name=session_name or header.session_name,
        start_time=shift_iso(header.start_time, -shift) if shift else header.start_time,
        duration_ms=max(duration, last),
        total_events=total,
        version=header.version,
        metadata=header.metadata,
    )


# --------------------------------------------------------------------------- diff


def _check_ignore_fields(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    # The report names fields as event_data.<path>: the same name is understood here.
    paths = tuple(path.removeprefix("event_data.") for path in value)
    try:
        parse_paths(list(paths), what="--ignore-field")
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc).removeprefix("--ignore-field: "), ctx, param) from None
    return paths


@main.command(short_help="Compare two cassettes; exit 1 when they differ.")
@click.argument("expected", metavar="A")
@click.argument("actual", metavar="B")
@click.option(
    "--ignore-field",
    "ignore_fields",
    multiple=True,
    metavar="PATH",
    callback=_check_ignore_fields,
    help="A dotted path inside event_data to leave out ('meta.*' works); repeatable.",
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"equal", "differences", "a", "b"} as JSON.'
)
@click.pass_context
def diff(
    ctx: click.Context, expected: str, actual: str, ignore_fields: tuple[str, ...], as_json: bool
) -> None:
    """Compare cassette A (recorded) with B (new), event by event and field by field.

    Exit status 0 when they hold the same events, 1 when they differ. The report is the
    one the pytest plugin prints when a test's events drift from its cassette.

    \b
    Examples:
      eventrecorder diff tests/cassettes/test_buy.json /tmp/test_buy.json
      eventrecorder diff a.jsonl b.jsonl --ignore-field timestamp --ignore-field 'meta.*'
    """
    a, b = (_load_whole(name) for name in (expected, actual))
    differences = diff_cassettes(a, b, ignore_fields=ignore_fields)
    if as_json:
        click.echo(
            _json_text(
                {
                    "equal": not differences,
                    "differences": [d.to_dict() for d in differences],
                    "a": _brief(expected, a),
                    "b": _brief(actual, b),
                }
            )
        )
    elif differences:
        click.echo(f"--- {expected} (recorded)\n+++ {actual} (new)")
        click.echo(format_report(differences, color=True))
    else:
        click.echo(f"{expected} and {actual} hold the same {len(a.events)} events")
    ctx.exit(EXIT_FAILED if differences else 0)


def _load_whole(name: str) -> Cassette:
    source = _open_input(name)
    return Cassette(source.header, tuple(source.events()))


def _brief(name: str, cassette: Cassette) -> dict[str, Any]:
    return {
        "file": name,
        "session_name": cassette.header.session_name,
        "total_events": len(cassette.events),
        "duration_ms": max(
            cassette.header.duration_ms,
            max((e.timestamp_offset_ms for e in cassette.events), default=0.0),
        ),
    }


# --------------------------------------------------------------------------- convert


@main.command(short_help="Convert a cassette to another format, losslessly.")
@click.argument("source_file", metavar="IN")
@click.argument("output", metavar="OUT")
def convert(source_file: str, output: str) -> None:
    """Rewrite cassette IN as OUT; each suffix picks a format: .json .yaml .yml .jsonl (+ .gz).

    Lossless for every field of the cassette format (keys it does not define are not kept),
    in any direction.
    .jsonl to .jsonl(.gz) is streamed end to end, so size does not matter.

    \b
    Examples:
      eventrecorder convert recordings/session.json session.yaml
      eventrecorder convert huge.jsonl huge.jsonl.gz
    """
    out = _check_output(output)
    source = _open_input(source_file)
    counted = Counter[str]()

    def counting() -> Iterator[RecordedEvent]:
        for event in source.events():
            counted["events"] += 1
            yield event

    with _progress(counting(), source, "converting") as events:
        write_events(out, source.header, events)
    click.echo(f"wrote {counted['events']} events to {out}", err=True)


# --------------------------------------------------------------------------- validate


@main.command(short_help="Check cassettes; exit 1 on any problem.")
@click.argument("paths", nargs=-1, required=True, metavar="FILE...")
@click.option("-q", "--quiet", is_flag=True, help="Print problems only, not the valid files.")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], quiet: bool) -> None:
    """Check that each FILE is a readable, well-formed cassette (a folder: every cassette in it).

    Prints one line per problem (file, line or event, field) and exits 1 if there is any.
    Checks every event, their order in time, and cut-off endings; .jsonl files are
    streamed, so size does not matter.

    \b
    Examples:
      eventrecorder validate tests/cassettes/
      eventrecorder validate -q recordings/*.jsonl.gz && echo all good
    """
    any_problem = missing = False
    for path in _expand(_matching(paths)):
        if not path.exists():
            click.echo(f"Error: {path}: no such file", err=True)
            missing = True
            continue
        problems, count, notes = _problems(path)
        any_problem = any_problem or bool(problems)
        for line in [] if quiet else notes:
            click.echo(line)
        for line in problems[:MAX_PROBLEMS_PER_FILE]:
            click.echo(line)
        if len(problems) > MAX_PROBLEMS_PER_FILE:
            click.echo(f"{path}: ... and {len(problems) - MAX_PROBLEMS_PER_FILE} more problems")
        if not problems and not quiet:
            click.echo(f"{path}: ok ({count} events)")
    ctx.exit(EXIT_ERROR if missing else EXIT_FAILED if any_problem else 0)


def _matching(names: Sequence[str]) -> list[str]:
    """The names, each quoted glob pattern (the shell did not expand it) replaced by the
    files it matches; a pattern matching nothing stays, to be reported as missing."""
    found: list[str] = []
    for name in names:
        matches = [] if Path(name).exists() else sorted(glob.glob(name))
        found.extend(matches or [name])
    return found


def _expand(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if not path.is_dir():
            yield path
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file() and is_cassette_path(p))
        if not found:
            raise CliError(f"{path}: no cassette files in this folder")
        yield from found


def _problems(path: Path) -> tuple[list[str], int, list[str]]:
    """The file's problems, its event count, and notes on fields a convert would drop."""
    problems: list[str] = []
    count, previous = 0, 0.0
    with _capturing_log() as logged, collecting_unknown_fields() as unknown:
        try:
            source = _open_input(path)
            for event in source.events():
                if event.timestamp_offset_ms < previous:
                    problems.append(
                        f"{path}: event {count}: timestamp_offset_ms {event.timestamp_offset_ms:g} "
                        f"is earlier than the event before it ({previous:g})"
                    )
                previous = max(previous, event.timestamp_offset_ms)
                count += 1
            total = source.header.total_events
            # 0 is what a stream writes first (and a header without the field reads as):
            # only a count that contradicts the events is a problem.
            if total not in (0, count) and not logged:
                problems.append(
                    f"{path}: total_events says {total}, but the file holds {count} events"
                )
        except (CassetteError, OSError) as exc:
            problems.append(describe_error(exc))
    return problems + logged, count, [f"{path}: note: {notice}" for notice in unknown]


@contextlib.contextmanager
def _capturing_log() -> Iterator[list[str]]:
    """Collect what the reader logs (a cut-off last line, an early gzip end) as problems."""
    captured: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record.getMessage())

    saved, log.handlers = log.handlers, [Collect(logging.WARNING)]
    saved_propagate, log.propagate = log.propagate, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncatedCassetteWarning)
            yield captured
    finally:
        log.handlers, log.propagate = saved, saved_propagate


# --------------------------------------------------------------------------- serve


@main.command(short_help="Start the web dashboard.")
@click.option(
    "--recordings-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of cassettes to browse [default: recordings].",
)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="[default: 5556]")
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option(
    "--token",
    envvar="EVENTRECORDER_TOKEN",
    default=None,
    help="Require 'Authorization: Bearer TOKEN' on the API (also $EVENTRECORDER_TOKEN).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file with an event_recorder: section [default: "
    f"./{DEFAULT_CONFIG_FILE} when present]. Options given here override it.",
)
def serve(
    recordings_dir: Path | None,
    port: int | None,
    host: str | None,
    token: str | None,
    config_path: Path | None,
) -> None:
    """Start the web dashboard for browsing, filtering, comparing and replaying recordings.

    Also available as the seed's `pubsub-tools event-recorder`.

    \b
    Examples:
      eventrecorder serve --recordings-dir ./recordings --port 5556
      eventrecorder serve --config devtools_config.yaml --host 0.0.0.0 --token s3cret
    """
    from .server import EventRecorderServer

    if config_path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        click.echo(f"using settings from ./{DEFAULT_CONFIG_FILE}", err=True)
    config = load_config(config_path).with_overrides(
        recordings_dir=recordings_dir, port=port, host=host
    )
    if not config.recordings_dir.is_dir():
        log.warning("%s does not exist yet; the dashboard starts empty", config.recordings_dir)
    _check_can_listen(config.host, config.port)
    server = EventRecorderServer(config, token=token)
    url = f"{server.url}/" + (f"?token={token}" if token else "")
    click.echo(
        f"eventrecorder dashboard for {config.recordings_dir} at {url} (Ctrl+C stops)", err=True
    )
    server.run()


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one clear line when the address is taken (the web server would print
    several and exit on its own)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CliError(
                f"cannot listen on {host}:{port}: {reason}; choose another --port"
            ) from None


pubsub_tools.add_command(serve, name="event-recorder")

main.add_command(record)
main.add_command(replay)
