"""How every command fails: one ``Error: ...`` line on stderr and an exit status.

Exit status: 0 success; 1 a check failed (``diff`` found differences, ``validate`` found
problems); 2 the command could not run (bad option, missing or unreadable file, bad cassette).
``--debug`` (or ``$EVENTRECORDER_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import click

EXIT_FAILED = 1
EXIT_ERROR = 2
DEBUG_ENV = "EVENTRECORDER_DEBUG"
DEBUG_KEY = "eventrecorder.debug"


class CliError(click.ClickException):
    """A problem that stops a command: one ``Error:`` line on stderr, exit status 2."""

    exit_code = EXIT_ERROR


class _Guarded:
    """Turns any exception a command raises into one clear line (``--debug``: the traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if debugging(ctx) or _is_broken_pipe(exc):
                raise  # click itself quiets a closed pipe (``eventrecorder timeline x | head``)
            raise CliError(describe_error(exc)) from exc


class GuardedCommand(_Guarded, click.Command):
    """A command that also fails cleanly when run on its own (``serve_recorder``)."""


class GuardedGroup(_Guarded, click.Group):
    command_class = GuardedCommand


def describe_error(exc: BaseException) -> str:
    """One line naming the file (when known) and the problem."""
    if isinstance(exc, OSError) and exc.strerror:
        if not exc.filename:
            return exc.strerror
        return f"{os.path.normpath(os.fsdecode(exc.filename))}: {exc.strerror}"
    if isinstance(exc, ValueError | LookupError) and str(exc):
        return str(exc)
    if isinstance(exc, RecursionError):  # a cassette may nest data deeper than Python can walk
        return "the cassette holds event data nested too deeply to process"
    return f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"


def echo_error(exc: Exception) -> None:
    """Report one file's failure and go on with the next (``info``, ``validate``)."""
    message = exc.format_message() if isinstance(exc, click.ClickException) else describe_error(exc)
    click.echo(f"Error: {message}", err=True)


def debugging(ctx: click.Context) -> bool:
    if os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes"):
        return True
    return bool(ctx.find_root().meta.get(DEBUG_KEY))


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno == errno.EPIPE
