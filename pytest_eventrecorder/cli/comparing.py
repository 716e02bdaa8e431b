"""``diff``: compare two cassettes with the report the pytest plugin prints.

The comparison streams (:class:`~pytest_eventrecorder.compare.DiffStream`): two ``.jsonl``
cassettes of any size are compared in bounded memory, and the report is spooled to a
temporary file (memory for a small one), since its first line counts what follows.
"""

from __future__ import annotations

import tempfile
import textwrap
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any

import click

from ..cassette import CassetteHeader
from ..compare import (
    Difference,
    DiffStream,
    report_entry,
    report_head,
    report_tail,
    unmatched_note,
)
from ..fieldpaths import check_paths
from .errors import EXIT_FAILED
from .inputs import open_input, shown_path
from .text import json_text, plural

SPOOL_BYTES = 4 * 1024 * 1024
"""A report up to this size stays in memory; a longer one goes to a temporary file."""
_SLOT = "\x00differences"
"""Where the spooled differences go in the JSON document (no difference can print so)."""


def _check_ignore_fields(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    try:
        return check_paths(list(value), what="--ignore-field")
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc).removeprefix("--ignore-field: "), ctx, param) from None


@click.command(short_help="Compare two cassettes; exit 1 when they differ.")
@click.argument("expected", metavar="A")
@click.argument("actual", metavar="B")
@click.option(
    "--ignore-field",
    "ignore_fields",
    multiple=True,
    metavar="PATH",
    callback=_check_ignore_fields,
    help="A field path to leave out, as the report prints it ('event_data.meta.*'); "
    "repeatable.",
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
    one the pytest plugin prints when a test's events drift from its cassette. Two .jsonl
    files are compared as they are read, in bounded memory: an event that moved more than
    8192 events away is reported as missing and unexpected, not as moved.

    \b
    Examples:
      eventrecorder diff tests/cassettes/test_buy.json /tmp/test_buy.json
      eventrecorder diff a.jsonl b.jsonl --ignore-field event_data.timestamp \\
          --ignore-field 'event_data.meta.*'
    """
    a, b = open_input(expected), open_input(actual)
    stream = DiffStream(a.events(), b.events(), ignore_fields=ignore_fields)
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES, "w+", encoding="utf-8") as spool:
        counts = _spool(stream, spool, as_json)
        for path in stream.unmatched_paths:
            click.echo(f"note: {unmatched_note(path, '--ignore-field')}", err=True)
        spool.seek(0)
        if as_json:
            briefs = (_brief(expected, a.header, stream, 0), _brief(actual, b.header, stream, 1))
            _print_json(spool, counts, *briefs)
        elif counts:
            click.echo(f"--- {expected} (recorded)\n+++ {actual} (new)")
            _print_text(spool, counts)
        else:
            same = plural(stream.counts[0], "event")
            click.echo(f"{shown_path(expected)} and {shown_path(actual)} hold the same {same}")
    ctx.exit(EXIT_FAILED if counts else 0)


def _spool(differences: Iterable[Difference], spool: IO[str], as_json: bool) -> Counter[str]:
    """Write each difference as the report shows it; the number of each kind."""
    counts: Counter[str] = Counter()
    color = not as_json
    for number, difference in enumerate(differences, start=1):
        counts[difference.kind] += 1
        if as_json:
            text = textwrap.indent(json_text(difference.to_dict()), "    ")
            spool.write(text if number == 1 else ",\n" + text)
        else:
            spool.write("\n".join(report_entry(number, difference, color)) + "\n")
    return counts


def _print_text(spool: IO[str], counts: Counter[str]) -> None:
    click.echo("\n".join(report_head(counts)))
    while chunk := "".join(spool.readlines(1 << 16)):
        click.echo(chunk, nl=False)
    tail = report_tail(counts)
    if tail:
        click.echo("\n".join(tail))


def _print_json(
    spool: IO[str], counts: Counter[str], a: dict[str, Any], b: dict[str, Any]
) -> None:
    """The JSON document, written around the spooled differences."""
    shape = {"equal": not counts, "differences": [_SLOT] if counts else [], "a": a, "b": b}
    before, _, after = json_text(shape).partition(f"    {json_text(_SLOT)}")
    click.echo(before, nl=False)
    while chunk := spool.read(1 << 16):
        click.echo(chunk, nl=False)
    click.echo(after)


def _brief(name: str, header: CassetteHeader, stream: DiffStream, side: int) -> dict[str, Any]:
    return {
        "file": name,
        "session_name": header.session_name,
        "total_events": stream.counts[side],
        "duration_ms": max(header.duration_ms, stream.last_offsets[side]),
    }


# --------------------------------------------------------------------------- convert
