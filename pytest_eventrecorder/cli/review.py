"""``review``: walk the pending cassettes a failed replay left (``x.pending.json`` beside
``x.json``, see :mod:`pytest_eventrecorder.pending`) and accept, reject or skip each.

Accepting replaces the recorded cassette with the pending one in one atomic rename;
rejecting deletes the pending file. Each one is shown as the difference report the failed
test printed (recorded != pending).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from ..cassette import CassetteError
from ..compare import format_report, match_events
from ..formats import read_cassette
from ..pending import accept, find_pending, recorded_path, reject
from .errors import EXIT_FAILED, CliError, describe_error
from .inputs import shown_path
from .text import plural

KEYS = "[a]ccept [r]eject [s]kip [A]ccept the rest [q]uit"
_ACTIONS = {"a": "accept", "r": "reject", "s": "skip", "A": "accept the rest", "q": "quit"}


@click.command(short_help="Accept or reject the pending cassettes of failed replays.")
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--accept-all", is_flag=True, help="Accept every pending cassette, unasked.")
@click.option("--reject-all", is_flag=True, help="Reject every pending cassette, unasked.")
@click.option(
    "--list", "list_only", is_flag=True, help="List the pending cassettes; exit 1 if any."
)
def review(path: str, accept_all: bool, reject_all: bool, list_only: bool) -> None:
    """Review the pending cassettes under PATH (a folder, default ".", or one file).

    A replayed test that fails on differences writes what it produced beside its cassette
    as <name>.pending.<ext>. For each, this shows the difference and asks: a accept
    (replace the cassette), r reject (delete the pending file), s skip, A accept this
    one and the rest, q quit.

    \b
    Examples:
      eventrecorder review tests/cassettes
      eventrecorder review --list            # exit 1 when anything is pending (for CI)
      eventrecorder review --accept-all tests/cassettes/test_bot
    """
    if accept_all + reject_all + list_only > 1:
        raise CliError("use only one of --accept-all, --reject-all and --list")
    pending = list(find_pending(path))
    if list_only:
        for file in pending:
            click.echo(shown_path(file))
        raise SystemExit(EXIT_FAILED if pending else 0)
    if not pending:
        click.echo(f"nothing pending under {shown_path(path)}")
    elif accept_all or reject_all:
        failed = [f for f in pending if not _act_or_say(f, "accept" if accept_all else "reject")]
        if failed:
            raise CliError(f"{len(failed)} pending cassette(s) left as they were (see above)")
    else:
        _ask_each(pending)


def _ask_each(pending: list[Path]) -> None:
    done: Counter[str] = Counter()
    rest = False
    for number, file in enumerate(pending, 1):
        click.echo(f"\n[{number}/{len(pending)}] {shown_path(file)}")
        click.echo(_report(file))
        action = "accept" if rest else _ask()
        if action == "quit":
            break
        rest = action == "accept the rest"
        action = "accept" if rest else action
        if action != "skip":
            _act(file, action)
            done[action] += 1
    left = len(pending) - done["accept"] - done["reject"]
    click.echo(f"\n{done['accept']} accepted, {done['reject']} rejected, {left} left pending")


def _ask() -> str:
    """One key: a, r, s, A or q (end of input or Ctrl-C quits)."""
    while True:
        click.echo(f"{KEYS}? ", nl=False)
        key = _key()
        click.echo(key)
        if key in _ACTIONS:
            return _ACTIONS[key]
        click.echo("press a, r, s, A or q")


def _key() -> str:
    """A key press on a terminal; from a pipe, the next character that is not blank (so
    ``printf 'a\\nr\\n' | eventrecorder review`` works too); ``q`` at the end of input."""
    try:
        if sys.stdin.isatty():
            return click.getchar()
        while (char := sys.stdin.read(1)) and char.isspace():
            pass
    except (EOFError, KeyboardInterrupt):
        return "q"
    return char or "q"


def _report(pending: Path) -> str:
    """The difference report (recorded != pending), as the failed test printed it."""
    recorded = recorded_path(pending)
    try:
        new = read_cassette(pending)
        old = read_cassette(recorded) if recorded.exists() else None
    except CassetteError as exc:
        return f"it cannot be read: {exc}"
    if old is None:
        return (
            f"no recorded cassette at {shown_path(recorded)}: accepting creates it "
            f"({plural(len(new.events), 'event')})"
        )
    differences = match_events(old.events, new.events).differences
    return format_report(differences, cassette_path=shown_path(recorded))


def _act_or_say(pending: Path, action: str) -> bool:
    """:func:`_act`, saying why instead of stopping when this one cannot be done."""
    try:
        _act(pending, action)
    except (CassetteError, OSError) as exc:
        click.echo(f"Error: {shown_path(pending)}: not {action}ed: {describe_error(exc)}", err=True)
        return False
    return True


def _act(pending: Path, action: str) -> None:
    if action == "accept":
        click.echo(f"accepted: {shown_path(accept(pending))}")
    else:
        reject(pending)
        click.echo(f"rejected: {shown_path(pending)}")
