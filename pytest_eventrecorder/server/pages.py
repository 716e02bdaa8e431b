"""The dashboard's HTML pages: the recordings list, one recording, the compare view, and the
review of pending cassettes.

Pages are thin shells; the data comes from the ``/api`` routes, fetched by the static JS,
which inserts every value from a cassette as text (event data is untrusted).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, render_template, request

from ..pending import is_pending

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

# Scripts and styles come only from our own static files, so even a slip that turned
# event data into markup could not run it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def _configured_token() -> str | None:
    token = current_app.config.get("EVENTRECORDER_TOKEN")
    return token if isinstance(token, str) and token else None


def _token_ok(expected: str) -> bool:
    given = request.args.get("token", "")
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _page(template: str, *, title: str, **context: object) -> tuple[str, int]:
    """Render a page, or the "token required" notice when the server wants a token."""
    token = _configured_token()
    if token is not None and not _token_ok(token):
        return render_template("token_required.html", title="Token required"), 401
    return render_template(template, title=title, token=token or "", **context), 200


@bp.after_request
def _harden(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if response.mimetype == "text/html":
        # Pages may carry the token; keep them out of shared caches.
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def index() -> tuple[str, int]:
    """The recordings list."""
    return _page("index.html", title="Recordings", page="index")


@bp.get("/recording/<path:filename>")
def recording(filename: str) -> tuple[str, int]:
    """One recording: summary, timeline, events, selection, replay."""
    return _page(
        "recording.html",
        title=filename,
        page="recording",
        filename=filename,
        pending=is_pending(filename),  # what a failing test produced: reviewed, never replayed
    )


@bp.get("/compare")
def compare() -> tuple[str, int]:
    """Two recordings side by side."""
    return _page(
        "compare.html",
        title="Compare",
        page="compare",
        a=request.args.get("a", ""),
        b=request.args.get("b", ""),
    )


@bp.get("/review")
def review() -> tuple[str, int]:
    """The pending cassettes, each with its differences, to accept or reject."""
    return _page("review.html", title="Review", page="review")
