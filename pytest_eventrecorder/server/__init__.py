"""The web dashboard: a Flask app with the REST API (``/api``) and the pages.

Flask is imported only when an app is made, so importing the package stays light.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..config import EventRecorderConfig
from .access import (
    HostPolicy,
    UnsafeBindError,
    check_bind,
    install_access,
    is_loopback,
    masking_request_handler,
)
from .gate import Gate, gated
from .replay import ReplayManager
from .store import RecordingStore, StoreError

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

__all__ = [
    "EventRecorderServer",
    "RecordingStore",
    "ReplayManager",
    "StoreError",
    "UnsafeBindError",
    "create_app",
    "is_loopback",
]

log = logging.getLogger("pytest_eventrecorder")


def create_app(
    config: EventRecorderConfig | None = None,
    *,
    token: str | None = None,
    testing: bool = False,
    allowed_hosts: Iterable[str] = (),
    index_dir: str | os.PathLike[str] | None = None,
) -> Flask:
    """The dashboard app for ``config.recordings_dir``; with ``token``, every ``/api`` call
    needs ``Authorization: Bearer <token>``. Without one, ``/api`` answers only requests
    addressed to localhost, the address it listens on, or a name in ``allowed_hosts``;
    state-changing calls from pages of other origins are always refused. Index files of
    big recordings go to ``index_dir`` (default: a hidden folder among the recordings)."""
    from flask import Flask

    from .api import MAX_BODY_BYTES, Dashboard, api, install_api_errors
    from .pages import bp as pages_bp

    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise ValueError("token must be a non-empty string (or None for no token)")
    config = config or EventRecorderConfig()
    app = Flask(__name__, static_folder=None)  # the pages blueprint serves its own assets
    app.json.sort_keys = False  # type: ignore[attr-defined]  # summaries are ordered by count
    app.config.update(
        TESTING=testing,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        EVENTRECORDER_TOKEN=token,
        EVENTRECORDER_CONFIG=config,
    )
    app.extensions["eventrecorder"] = Dashboard(
        config, token, RecordingStore(config.recordings_dir, index_dir=index_dir)
    )
    # A recording's name may hold folders; "//" in one is an error to report, not a
    # redirect to some other name.
    app.url_map.merge_slashes = False
    install_access(app, HostPolicy.for_bind(config.host, allowed_hosts), token is not None)
    app.register_blueprint(api)
    app.register_blueprint(pages_bp)
    install_api_errors(app)
    app.wsgi_app = gated(app.wsgi_app, Gate())  # type: ignore[method-assign,assignment]
    return app


class EventRecorderServer:
    """The seed's ``EventRecorderServer(config).run()``: serves the dashboard on
    ``config.host`` (default 127.0.0.1) and ``config.port``, never with Flask's debugger
    or reloader. Another address than loopback needs a ``token``, or ``allow_no_token``
    (``serve --insecure-no-token``); ``allowed_hosts`` are more names it may be called by;
    ``index_dir`` is where index files of big recordings go (see :func:`create_app`)."""

    def __init__(
        self,
        config: EventRecorderConfig | None = None,
        token: str | None = None,
        *,
        allow_no_token: bool = False,
        allowed_hosts: Iterable[str] = (),
        index_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.config = config or EventRecorderConfig()
        self.token = token
        self.allow_no_token = allow_no_token
        self.app = create_app(
            self.config, token=token, allowed_hosts=allowed_hosts, index_dir=index_dir
        )
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL once bound (the real port when ``config.port`` is 0)."""
        server = self._bind()
        host = self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{server.server_port}"

    def run(self) -> None:
        """Serve until interrupted (Ctrl+C)."""
        server = self._bind()
        log.info("Dashboard for %s at %s", self.config.recordings_dir, self.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            log.info("Dashboard stopped")
        finally:
            self._close()

    def start(self) -> str:
        """Serve from a background thread; returns the base URL. Stop with :meth:`shutdown`."""
        server = self._bind()
        self._thread = threading.Thread(
            target=server.serve_forever, daemon=True, name="eventrecorder-dashboard"
        )
        self._thread.start()
        return self.url

    def shutdown(self) -> None:
        """Stop serving (from another thread than :meth:`run`'s) and stop any replay."""
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close()

    def _bind(self) -> BaseWSGIServer:
        if self._server is None:
            from werkzeug.serving import make_server

            check_bind(self.config.host, self.token, self.allow_no_token)
            self._warn_if_exposed()
            self._server = make_server(
                self.config.host,
                self.config.port,
                self.app,
                threaded=True,
                request_handler=masking_request_handler(),
            )
        return self._server

    def _warn_if_exposed(self) -> None:
        if self.token is None and not is_loopback(self.config.host):
            log.warning(
                "The dashboard listens on %s without a token (as asked): anyone who can "
                "reach this machine can read your recordings and start or stop recordings.",
                self.config.host,
            )

    def _close(self) -> None:
        self.app.extensions["eventrecorder"].replay.stop()
        if self._server is not None:
            self._server.server_close()
            self._server = None
