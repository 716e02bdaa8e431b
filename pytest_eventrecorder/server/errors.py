"""The errors the dashboard's store raises about a request; each carries its HTTP status."""

from __future__ import annotations

from ..cassette import CassetteError


class StoreError(Exception):
    """A request about a recording that cannot be served; ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadName(StoreError):
    """The file name is not a plain cassette file name inside the recordings folder."""


class NotFound(StoreError):
    status = 404


class BrokenRecording(StoreError):
    """The file exists but is not a readable cassette (its CassetteError message, path-free)."""

    status = 422


class NameClash(StoreError):
    status = 409


def public_error(exc: CassetteError, filename: str) -> BrokenRecording:
    """The cassette error with the server's absolute path replaced by the bare file name."""
    located = CassetteError(
        exc.problem, path=filename, line=exc.line, index=exc.index, field=exc.field
    )
    return BrokenRecording(str(located))
