"""Commands that read cassettes and say what is in them: ``info``, ``timeline``, ``validate``."""

from __future__ import annotations

import contextlib
import logging
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..cassette import CassetteError, RecordedEvent, collecting_unknown_fields
from ..formats import TruncatedCassetteWarning, cassette_format
from ..pending import is_pending
from ..query import Query
from .errors import EXIT_ERROR, EXIT_FAILED, CliError, describe_error, echo_error
from .inputs import WHERE_HELP, Input, expand, matching, open_input, parse_where, progress, selector
from .text import human_bytes, human_ms, json_text, plural, shown

log = logging.getLogger("pytest_eventrecorder")
MAX_PROBLEMS_PER_FILE = 20
NO_SOURCE = "(none)"
_PALETTE = ("cyan", "green", "yellow", "magenta", "blue", "bright_red", "bright_green")


@click.command(short_help="Summarize cassettes: session, duration, counts.")
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
    for name in matching(files):
        try:
            summary = _summarize(open_input(name))
        except (CliError, CassetteError, OSError) as exc:
            echo_error(exc)
            failed = True
            continue
        summaries.append(summary)
        if not as_json:
            _print_summary(summary, first=len(summaries) == 1)
    if as_json:
        click.echo(json_text(summaries))
    ctx.exit(EXIT_ERROR if failed else 0)


def _summarize(source: Input) -> dict[str, Any]:
    names: Counter[str] = Counter()
    sources: Counter[str | None] = Counter()
    last = 0.0
    with progress(source.events(), source, "reading") as events:
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
        ("session", shown(summary["session_name"]) or "(unnamed)"),
        ("started", summary["start_time"] or "(unknown)"),
        ("duration", human_ms(summary["duration_ms"])),
        ("events", str(summary["total_events"])),
        (
            "format",
            f"{summary['format']}, version {summary['version']}, "
            f"{human_bytes(summary['size_bytes'])}",
        ),
    ]
    for label, value in rows:
        click.echo(f"  {label:<12} {value}")
    for title, counts in (("event names", summary["event_names"]), ("sources", summary["sources"])):
        click.echo(f"  {title:<12} {len(counts)}")
        for key, count in counts.items():
            click.echo(f"    {count:>9}  {shown(key)}")


@click.command(short_help="Print one line per event (coloured on a terminal).")
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
@click.option("--where", metavar="EXPR", callback=parse_where, help=WHERE_HELP)
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
    source = open_input(file)
    keep = selector(event_names, (), sources, where)
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
            click.style(f"{shown(event.event_name):<32}", fg=color, bold=True),
            click.style(shown(event.source or "-"), dim=event.source is None),
        )
    )


# --------------------------------------------------------------------------- filter


@click.command(short_help="Check cassettes; exit 1 on any problem.")
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
    for path in expand(matching(paths)):
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
            pending = "; pending, see eventrecorder review" if is_pending(path) else ""
            click.echo(f"{path}: ok ({plural(count, 'event')}{pending})")
    ctx.exit(EXIT_ERROR if missing else EXIT_FAILED if any_problem else 0)


def _problems(path: Path) -> tuple[list[str], int, list[str]]:
    """The file's problems, its event count, and notes on fields a convert would drop."""
    problems: list[str] = []
    count, previous = 0, 0.0
    with _capturing_log() as logged, collecting_unknown_fields() as unknown:
        try:
            source = open_input(path)
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
                    f"{path}: total_events says {total}, but the file holds "
                    f"{plural(count, 'event')}"
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
