"""The ``eventrecorder`` command line."""

from __future__ import annotations

import click

from . import __version__


@click.group()
@click.version_option(__version__, prog_name="eventrecorder")
def main() -> None:
    """Inspect, edit, record and replay event cassettes."""


def pubsub_tools() -> None:
    """The seed's ``pubsub-tools`` entry point."""
    main()
