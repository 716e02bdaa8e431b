"""The ``eventrecorder`` command line (also ``python -m pytest_eventrecorder``).

This package holds every click command and nothing else: the group, its options and its error
handling here; one module per family of commands beside it (:mod:`.inspecting`,
:mod:`.editing`, :mod:`.comparing`, :mod:`.brokers`, :mod:`.serving`), sharing how inputs are
read (:mod:`.inputs`), shown (:mod:`.text`) and how failures are reported (:mod:`.errors`).

Exit status: 0 success; 1 a check failed (``diff`` found differences, ``validate`` found
problems); 2 the command could not run (bad option, missing or unreadable file, bad cassette).
Errors are one ``Error: ...`` line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from typing import Any

import click

from .. import __version__
from ..formats import TruncatedCassetteWarning
from .brokers import record, replay
from .comparing import diff
from .coverage import coverage
from .editing import convert, filter_command
from .errors import (
    DEBUG_ENV,
    DEBUG_KEY,
    EXIT_ERROR,
    EXIT_FAILED,
    CliError,
    GuardedGroup,
    describe_error,
)
from .inspecting import info, timeline, validate
from .notes import install_notes
from .review import review
from .schema import schema
from .serving import serve
from .shrink import shrink

__all__ = [
    "EXIT_ERROR",
    "EXIT_FAILED",
    "CliError",
    "describe_error",
    "main",
    "pubsub_tools",
    "serve",
]

log = logging.getLogger("pytest_eventrecorder")
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _EchoHandler(logging.Handler):
    """Library warnings as ``warning: ...`` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def _setup(ctx: click.Context, debug: bool, color: bool | None) -> None:
    ctx.meta[DEBUG_KEY] = debug
    ctx.color = False if color is None and "NO_COLOR" in os.environ else color
    handler, level = _EchoHandler(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.WARNING)

    def restore() -> None:
        log.removeHandler(handler)
        log.setLevel(level)

    ctx.call_on_close(restore)
    ctx.with_resource(warnings.catch_warnings())
    install_notes(ctx)
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


@click.group(cls=GuardedGroup, context_settings=_CONTEXT)
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


@click.group(cls=GuardedGroup, context_settings=_CONTEXT)
@_global_options("pubsub-tools")
@click.pass_context
def pubsub_tools(ctx: click.Context, debug: bool, color: bool | None) -> None:
    """Developer tools for pub/sub systems (the seed's launcher).

    \b
    Example:
      pubsub-tools event-recorder --config devtools_config.yaml
    """
    _setup(ctx, debug, color)


_COMMANDS = (
    *(info, timeline, validate, filter_command, convert, diff, schema, coverage, shrink),
    *(record, replay, serve, review),
)
for _command in _COMMANDS:
    main.add_command(_command)
pubsub_tools.add_command(serve, name="event-recorder")
