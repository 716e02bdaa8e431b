"""``serve``: the web dashboard (also the seed's ``pubsub-tools event-recorder``)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import click

from ..config import DEFAULT_CONFIG_FILE, load_config
from .errors import CliError, GuardedCommand

log = logging.getLogger("pytest_eventrecorder")


@click.command(cls=GuardedCommand, short_help="Start the web dashboard.")
@click.option(
    "--recordings-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of cassettes to browse [default: recordings].",
)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="[default: 5556]")
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option(
    "--token",
    envvar="EVENTRECORDER_TOKEN",
    default=None,
    help="Require 'Authorization: Bearer TOKEN' on the API (also $EVENTRECORDER_TOKEN).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file with an event_recorder: section [default: "
    f"./{DEFAULT_CONFIG_FILE} when present]. Options given here override it.",
)
def serve(
    recordings_dir: Path | None,
    port: int | None,
    host: str | None,
    token: str | None,
    config_path: Path | None,
) -> None:
    """Start the web dashboard for browsing, filtering, comparing and replaying recordings.

    Also available as the seed's `pubsub-tools event-recorder`.

    \b
    Examples:
      eventrecorder serve --recordings-dir ./recordings --port 5556
      eventrecorder serve --config devtools_config.yaml --host 0.0.0.0 --token s3cret
    """
    from ..server import EventRecorderServer

    if config_path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        click.echo(f"using settings from ./{DEFAULT_CONFIG_FILE}", err=True)
    config = load_config(config_path).with_overrides(
        recordings_dir=recordings_dir, port=port, host=host
    )
    if not config.recordings_dir.is_dir():
        log.warning("%s does not exist yet; the dashboard starts empty", config.recordings_dir)
    _check_can_listen(config.host, config.port)
    server = EventRecorderServer(config, token=token)
    url = f"{server.url}/" + (f"?token={token}" if token else "")
    click.echo(
        f"eventrecorder dashboard for {config.recordings_dir} at {url} (Ctrl+C stops)", err=True
    )
    server.run()


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one clear line when the address is taken (the web server would print
    several and exit on its own)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CliError(
                f"cannot listen on {host}:{port}: {reason}; choose another --port"
            ) from None
