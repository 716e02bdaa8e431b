"""The record modes, the replay speed and the marker's name: what registering the plugin's
options needs, and nothing more (the plugin loads in every pytest session of an environment,
so this module imports nothing beyond the standard library)."""

from __future__ import annotations

import math
from typing import Any

MARKER = "event_cassette"
RECORD_MODES = ("once", "new_episodes", "none", "all", "rewrite")
"""Every value ``--record-mode`` and ``record_mode=`` accept (``rewrite`` means ``all``);
the same values, with the same meanings, as pytest-recording's ``--record-mode``."""
MODE_SYNONYMS = {"rewrite": "all"}
DEFAULT_RECORD_MODE = "once"
CI_RECORD_MODE = "none"
INSTANT = math.inf


def check_record_mode(value: Any) -> str:
    """A record mode from :data:`RECORD_MODES`, or ``ValueError`` listing them."""
    if value not in RECORD_MODES:
        raise ValueError(f"record mode must be one of {', '.join(RECORD_MODES)}")
    return str(value)


def check_speed(value: Any) -> float:
    """A positive replay speed; ``"instant"``/``"inf"`` (the default) mean no waiting."""
    if isinstance(value, str):
        text = value.strip().lower()
        value = INSTANT if text in ("instant", "inf", "infinity") else _float(text)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError("speed must be a positive number (1.0 = recorded pace) or 'instant'")
    return float(value)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
