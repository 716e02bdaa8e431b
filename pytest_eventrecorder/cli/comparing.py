"""``diff``: compare two cassettes with the report the pytest plugin prints."""

from __future__ import annotations

from typing import Any

import click

from ..cassette import Cassette
from ..compare import diff_cassettes, format_report
from ..fieldpaths import parse_paths
from .errors import EXIT_FAILED
from .inputs import open_input
from .text import json_text


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


@click.command(short_help="Compare two cassettes; exit 1 when they differ.")
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
            json_text(
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
    source = open_input(name)
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
