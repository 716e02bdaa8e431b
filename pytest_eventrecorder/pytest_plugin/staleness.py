"""Stale cassettes: recorded behaviour of other systems drifts, so a cassette may carry an age
limit (``max_age="30d"`` on the marker, or the ini option ``event_recorder_max_age``).

A cassette's age is measured from its header's ``start_time`` (when it was recorded).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .lifecycle import LIFECYCLE, RUN_LOG

if TYPE_CHECKING:
    from .options import CassetteOptions
    from .session import Mode

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_MAX_AGE = re.compile(r"(\d+(?:\.\d+)?)([dhms])")


def parse_max_age(value: object) -> float:
    """``30d``, ``12h``, ``90m`` or ``3600s`` as seconds; ``ValueError`` saying what is wrong."""
    text = value.strip() if isinstance(value, str) else None
    match = _MAX_AGE.fullmatch(text) if text else None
    seconds = float(match[1]) * _UNITS[match[2]] if match else math.nan
    if not seconds > 0 or seconds == math.inf:
        raise ValueError(
            f"max_age {value!r} must be a number followed by d, h, m or s (30d, 12h, 90m, "
            "3600s), greater than 0"
        )
    return seconds


def recorded_at(start_time: str) -> datetime | None:
    """The header's ``start_time`` as an aware datetime (``None`` when it is not a time)."""
    try:
        when = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def is_stale(start_time: str, max_age: float, now: datetime | None = None) -> bool:
    """Whether a cassette recorded at ``start_time`` is older than ``max_age`` seconds; a
    start time that is not a time is stale (nothing vouches for its age)."""
    when = recorded_at(start_time)
    if when is None:
        return True
    now = now or datetime.now(timezone.utc)
    return (now - when).total_seconds() > max_age


def age_text(seconds: float) -> str:
    """Seconds in the largest unit that holds them whole (2592000 -> ``30d``)."""
    for unit, size in _UNITS.items():
        if seconds >= size and (seconds / size).is_integer():
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def stale_mode(config: pytest.Config, options: CassetteOptions, path: Path, mode: Mode) -> Mode:
    """A replayed cassette older than its max_age is noted as stale, or, with
    ``--event-cassettes-stale=rerecord``, recorded again as record mode ``all`` would."""
    settings = config.stash[LIFECYCLE]
    max_age = options.max_age if options.max_age is not None else settings.max_age
    if mode != "replay" or max_age is None:
        return mode
    from ..cassette import CassetteError
    from ..formats import read_header

    try:
        start_time = read_header(path).start_time
    except CassetteError:
        return mode  # opening the cassette reports what is wrong with it
    if not is_stale(start_time, max_age):
        return mode
    log = config.stash[RUN_LOG]
    if settings.stale == "rerecord":
        log.rerecorded_stale.add(str(path))
        return "record"
    log.stale[str(path)] = f"recorded {start_time}, max_age {age_text(max_age)}"
    return mode
