"""The Review API: the pending cassettes in the recordings folder, accepted or rejected.

A pending cassette (``x.pending.json`` beside ``x.json``, see :mod:`..pending`) holds what a
failing replayed test produced. Accepting it replaces the recorded cassette, rejecting it
deletes it; nothing else in the folder can be touched through these routes. The blueprint is
nested in the ``api`` one, so the token, Host, Origin and error rules of ``/api`` apply.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify

from ..pending import accept as accept_pending
from ..pending import is_pending, recorded_path
from ..pending import reject as reject_pending
from .errors import BadName, NotFound, StoreError
from .store import RecordingStore, check_name

review = Blueprint("review", __name__, url_prefix="/review")


class Vanished(StoreError):
    """The pending cassette went away while it was being accepted (another tab, a test run)."""

    status = 409


class NotReplayable(StoreError):
    status = 409


def _store() -> RecordingStore:
    store: RecordingStore = current_app.extensions["eventrecorder"].store
    return store


def recorded_name(name: str) -> str:
    """The recorded cassette's name for a pending one's (both relative to the folder)."""
    folder, _, file = name.rpartition("/")
    recorded = recorded_path(file).name
    return f"{folder}/{recorded}" if folder else recorded


@review.get("")
def list_pending() -> Response:
    """Every pending cassette with the name of the cassette it would replace."""
    listed = _store().list_recordings()
    names = {r["filename"] for r in listed}
    found = []
    for entry in sorted((r for r in listed if r["pending"]), key=lambda r: r["filename"]):
        recorded = recorded_name(entry["filename"])
        found.append({**entry, "recorded": recorded, "recorded_exists": recorded in names})
    return jsonify(pending=found, count=len(found))


@review.post("/accept/<path:filename>")
def accept(filename: str) -> Response:
    path, name = _pending_file(filename)
    try:
        accept_pending(path)
    except FileNotFoundError:
        raise Vanished(_gone(name)) from None
    return jsonify(accepted=name, recorded=recorded_name(name))


@review.post("/reject/<path:filename>")
def reject(filename: str) -> Response:
    path, name = _pending_file(filename)
    try:
        reject_pending(path)
    except FileNotFoundError:
        raise Vanished(_gone(name)) from None
    return jsonify(rejected=name)


def _pending_file(filename: str) -> tuple[Path, str]:
    """The pending cassette's own path in the folder (never a link's target), or a 4xx."""
    name = check_name(filename)
    if not is_pending(name):
        raise BadName(
            f"{name!r} is not a pending cassette (a pending one is named like x.pending.json)"
        )
    store = _store()
    try:
        store.resolve(name)  # inside the folder, and a regular file
    except NotFound:
        raise NotFound(_gone(name)) from None
    path = store.root / name
    if _is_link(path):
        raise BadName(f"{name!r} is a symbolic link: only a pending cassette file is reviewed")
    return path, name


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _gone(name: str) -> str:
    return (
        f"no pending cassette named {name!r}: it was already accepted or rejected, or removed "
        "(reload the Review page)"
    )


def refuse_replay(filename: str) -> None:
    """A pending cassette is never replayed: a 409 that says where to go instead."""
    if is_pending(filename):
        raise NotReplayable(
            f"{filename!r} is a pending cassette (what a failing test produced): it is never "
            "replayed. Accept or reject it on the Review page"
        )
