"""The project's own warnings (fields a reader skips, payloads replayed as plain data...) as
one ``note:`` line per kind on stderr, never Python's warning text with source locations.

Notes are gathered while a command runs and shown when it ends, each naming the file(s) being
read when it was raised (commands read their inputs one after another).
"""

from __future__ import annotations

import os
import warnings
from typing import Any, TextIO

import click

NOTES_KEY = "eventrecorder.notes"
_PROJECT = "pytest_eventrecorder"


class Notes:
    """Collects the project's warnings; others go on to Python's usual display."""

    def __init__(self) -> None:
        self.reading: str | None = None
        self._seen: dict[str, list[str]] = {}  # text -> files it was raised for
        self._others = warnings.showwarning

    def show(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if not category.__module__.startswith(_PROJECT):
            self._others(message, category, filename, lineno, file, line)
            return
        files = self._seen.setdefault(str(message), [])
        if self.reading is not None and self.reading not in files:
            files.append(self.reading)

    def flush(self) -> None:
        for text, files in self._seen.items():
            click.echo(f"note: {_where(files)}{text}", err=True)
        self._seen.clear()


def _where(files: list[str]) -> str:
    if not files:
        return ""
    if len(files) > 3:
        files = [*files[:2], f"{len(files) - 2} more files"]
    listed = files[0] if len(files) == 1 else f"{', '.join(files[:-1])} and {files[-1]}"
    return f"{listed}: "


def install_notes(ctx: click.Context) -> None:
    """Show the project's warnings as notes until ``ctx`` closes; call it inside a
    ``warnings.catch_warnings()`` that ``ctx`` holds, which restores Python's display."""
    notes = Notes()
    # Every occurrence reaches Notes (which keeps one per kind), not just a module's first.
    warnings.filterwarnings("always", module=_PROJECT)
    warnings.showwarning = notes.show
    ctx.meta[NOTES_KEY] = notes
    ctx.call_on_close(notes.flush)


def reading(path: str | os.PathLike[str]) -> None:
    """Say which file the command reads now, for the notes raised while reading it."""
    ctx = click.get_current_context(silent=True)
    notes: Any = ctx.meta.get(NOTES_KEY) if ctx is not None else None
    if isinstance(notes, Notes):
        notes.reading = os.path.normpath(path)
