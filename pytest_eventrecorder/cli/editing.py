"""Commands that write a new cassette from another: ``filter`` and ``convert``."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click

from ..cassette import CassetteHeader, RecordedEvent, shift_iso
from ..formats import cassette_format, write_events
from ..query import Query
from .inputs import (
    WHERE_HELP,
    check_millis,
    check_output,
    check_target,
    input_path,
    open_input,
    parse_where,
    progress,
    selector,
    shown_path,
)
from .text import plural

FORCE = click.option(
    "-f", "--force", is_flag=True, help="Replace OUT if it exists (never one of the inputs)."
)


@click.command("filter", short_help="Write a cassette with only the events you pick.")
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
    callback=check_millis,
    help="Keep events at or after this offset.",
)
@click.option(
    "--to-ms",
    type=float,
    metavar="MS",
    callback=check_millis,
    help="Keep events before this offset.",
)
@click.option("--where", metavar="EXPR", callback=parse_where, help=WHERE_HELP)
@click.option(
    "--rebase/--no-rebase",
    default=True,
    show_default=True,
    help="With --from-ms, move offsets (and the start time) so the slice starts at 0.",
)
@click.option("--session-name", default=None, help="Name the new session (default: keep it).")
@FORCE
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
    force: bool,
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
    out = check_output(output)
    path = input_path(file)
    check_target(out, force=force, inputs=[path])
    source = open_input(path)
    keep = selector(event_names, excluded, sources, where, window)
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
    with progress(selected(tally), source, "filtering") as events:
        write_events(out, header, events)
    kept, read = tally["kept"], plural(tally["read"], "event")
    click.echo(f"wrote {kept} of {read} to {shown_path(out)}", err=True)


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


@click.command(short_help="Convert a cassette to another format, losslessly.")
@click.argument("source_file", metavar="IN")
@click.argument("output", metavar="OUT")
@FORCE
def convert(source_file: str, output: str, force: bool) -> None:
    """Rewrite cassette IN as OUT; each suffix picks a format: .json .yaml .yml .jsonl (+ .gz).

    Lossless for every field of the cassette format (keys it does not define are not kept),
    in any direction.
    .jsonl to .jsonl(.gz) is streamed end to end, so size does not matter.

    \b
    Examples:
      eventrecorder convert recordings/session.json session.yaml
      eventrecorder convert huge.jsonl huge.jsonl.gz
    """
    out = check_output(output)
    path = input_path(source_file)
    check_target(out, force=force, inputs=[path])
    source = open_input(path)
    counted = Counter[str]()

    def counting() -> Iterator[RecordedEvent]:
        for event in source.events():
            counted["events"] += 1
            yield event

    with progress(counting(), source, "converting") as events:
        write_events(out, source.header, events)
    click.echo(f"wrote {plural(counted['events'], 'event')} to {shown_path(out)}", err=True)


# --------------------------------------------------------------------------- validate
