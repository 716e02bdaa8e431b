"""``coverage``: what of the traffic in recordings the test cassettes exercise."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from ..cassette import RecordedEvent
from ..eventcoverage import Census, Coverage, census, measure, report_lines
from .errors import EXIT_FAILED, CliError
from .inputs import expand, matching, open_input


@click.command("coverage", short_help="Which recorded traffic the test cassettes exercise.")
@click.argument("recordings", nargs=-1, required=True, metavar="RECORDING...")
@click.option(
    "--cassettes",
    "cassette_paths",
    multiple=True,
    required=True,
    metavar="PATH",
    help="A cassette, or a folder searched for cassettes; repeatable.",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PERCENT",
    help="Exit 1 when overall coverage is below PERCENT.",
)
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def coverage(
    ctx: click.Context,
    recordings: tuple[str, ...],
    cassette_paths: tuple[str, ...],
    fail_under: float | None,
    top: int,
    as_json: bool,
) -> None:
    """Report which event names, sources (per event name) and payload shapes (an event
    name with the set of field paths its data held) seen in RECORDING... the cassettes
    exercise, and the biggest ones they miss. Overall coverage counts distinct items, so
    a rare event counts as much as a frequent one.

    \b
    Examples:
      eventrecorder coverage recordings/prod.jsonl --cassettes tests/
      eventrecorder coverage prod-*.jsonl.gz --cassettes tests/cassettes --fail-under 80
    """
    exercised = _exercised(cassette_paths)
    result = measure(_traffic(recordings), exercised)
    if as_json:
        click.echo(json.dumps(_as_dict(result, top), indent=2))
    else:
        click.echo(
            f"event coverage of {result.events:,} recorded events "
            f"by {exercised.events:,} events in cassettes:"
        )
        for line in report_lines(result, top=top):
            click.echo(line)
    if fail_under is not None and result.percent < fail_under:
        click.echo(f"coverage {result.percent:.1f}% is under {fail_under:g}%", err=True)
        ctx.exit(EXIT_FAILED)


def _exercised(paths: Sequence[str]) -> Census:
    files = list(expand(matching(paths)))
    missing = [p for p in files if not p.exists()]
    if missing:
        raise CliError(f"{missing[0]}: no such file")
    return census(_events(files))


def _traffic(names: Sequence[str]) -> Iterator[RecordedEvent]:
    return _events(Path(n) for n in matching(names))


def _events(paths: Sequence[Path] | Iterator[Path]) -> Iterator[RecordedEvent]:
    return itertools.chain.from_iterable(open_input(p).events() for p in paths)


def _as_dict(result: Coverage, top: int) -> dict[str, object]:
    return {
        "percent": round(result.percent, 2),
        "covered": result.covered,
        "total": result.total,
        "events": result.events,
        "events_fully_covered": result.events_covered,
        "kinds": {k.kind: {"covered": k.covered, "total": k.total} for k in result.kinds},
        "uncovered": [
            {"events": n, "kind": kind, "item": text} for n, kind, text in result.uncovered[:top]
        ],
    }
