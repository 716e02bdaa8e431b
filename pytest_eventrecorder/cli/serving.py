"""``serve``: the web dashboard (also the seed's ``pubsub-tools event-recorder``)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import click
from click.core import ParameterSource

from ..config import DEFAULT_CONFIG_FILE, load_config
from ..server.access import NO_TOKEN_FLAG, check_bind, read_token_file
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
    help="Require 'Authorization: Bearer TOKEN' on the API. Prefer $EVENTRECORDER_TOKEN or "
    "--token-file: other users of this machine can see command-line arguments.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Read the token from the first line of this file.",
)
@click.option(
    "--allow-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Another name the dashboard is reached by (a reverse proxy, a DNS name); repeatable.",
)
@click.option(
    NO_TOKEN_FLAG,
    "no_token",
    is_flag=True,
    help="Serve a non-loopback --host without a token: anyone who can reach it can read "
    "your recordings and start or stop recordings.",
)
@click.option(
    "--index-dir",
    envvar="EVENTRECORDER_INDEX_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the index files that let a restarted dashboard open big .jsonl "
    "recordings at once [default: .eventrecorder-index inside the recordings folder; "
    "$EVENTRECORDER_INDEX_DIR].",
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
    token_file: Path | None,
    allowed_hosts: tuple[str, ...],
    no_token: bool,
    index_dir: Path | None,
    config_path: Path | None,
) -> None:
    """Start the web dashboard for browsing, filtering, comparing and replaying recordings.

    Also available as the seed's `pubsub-tools event-recorder`.

    \b
    Examples:
      eventrecorder serve --recordings-dir ./recordings --port 5556
      EVENTRECORDER_TOKEN=s3cret eventrecorder serve --host 0.0.0.0
      eventrecorder serve --host 0.0.0.0 --token-file ~/.eventrecorder-token
    """
    from ..server import EventRecorderServer, UnsafeBindError

    if config_path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        click.echo(f"using settings from ./{DEFAULT_CONFIG_FILE}", err=True)
    config = load_config(config_path).with_overrides(
        recordings_dir=recordings_dir, port=port, host=host
    )
    if not config.recordings_dir.is_dir():
        log.warning("%s does not exist yet; the dashboard starts empty", config.recordings_dir)
    token = _token(token, token_file)
    try:
        check_bind(config.host, token, no_token)
    except UnsafeBindError as exc:
        raise CliError(str(exc)) from None
    _check_can_listen(config.host, config.port)
    chosen = {} if index_dir is None else {"index_dir": index_dir}  # else the server's default
    server = EventRecorderServer(
        config, token=token, allow_no_token=no_token, allowed_hosts=allowed_hosts, **chosen
    )
    # The token is never printed: terminals and service logs are kept and shared.
    link = " (open it with ?token=<your token>)" if token else ""
    click.echo(
        f"eventrecorder dashboard for {config.recordings_dir} at {server.url}/{link} "
        "(Ctrl+C stops)",
        err=True,
    )
    server.run()


def _token(token: str | None, token_file: Path | None) -> str | None:
    """The token from ``--token``, ``$EVENTRECORDER_TOKEN`` or ``--token-file``."""
    source = click.get_current_context().get_parameter_source("token")
    if token_file is not None:
        if token is not None:
            where = "--token" if source is ParameterSource.COMMANDLINE else "$EVENTRECORDER_TOKEN"
            raise CliError(f"give the token once: {where} or --token-file, not both")
        try:
            return read_token_file(token_file)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if token is not None and source is ParameterSource.COMMANDLINE:
        log.warning(
            "--token is visible to other users of this machine (in the process list); "
            "prefer $EVENTRECORDER_TOKEN or --token-file"
        )
    return token


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
