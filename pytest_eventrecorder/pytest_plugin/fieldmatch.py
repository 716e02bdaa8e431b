"""Where a test's field matchers come from besides the marker: the ini file's
``event_recorder_matchers`` lines and a project's ``pytest_eventrecorder_match`` hook."""

from __future__ import annotations

from typing import Any

import pytest

from ..matching import MatchHook, parse_ini_matchers
from .options import OptionsError
from .settings import INI_MATCHERS


def ini_matchers(config: pytest.Config) -> dict[str, Any]:
    """``{"matchers": {...}}`` for the ini layer, or nothing when the ini names none."""
    lines = config.getini(INI_MATCHERS)
    if not lines:
        return {}
    try:
        return {"matchers": parse_ini_matchers(lines, what=f"ini option {INI_MATCHERS}")}
    except ValueError as exc:
        raise OptionsError(str(exc)) from None


def match_hook(item: pytest.Item) -> MatchHook | None:
    """The conftest hook as a plain function, or None when no project implements it (so
    comparing costs nothing more)."""
    hook = item.config.hook.pytest_eventrecorder_match
    if not hook.get_hookimpls():
        return None

    def call(recorded: Any, actual: Any, path: str) -> bool | None:
        answer: bool | None = hook(recorded=recorded, actual=actual, path=path)
        return answer

    return call
