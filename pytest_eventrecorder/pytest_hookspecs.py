"""Hooks the pytest plugin adds (registered through ``pytest_addhooks``).

Implement them in a ``conftest.py`` or a plugin, like any pytest hook.
"""

from __future__ import annotations

from typing import Literal

import pytest

from .cassette import RecordedEvent


@pytest.hookspec(firstresult=True)
def pytest_eventrecorder_before_record_event(
    event: RecordedEvent, item: pytest.Item
) -> RecordedEvent | Literal[False] | None:
    """Change or drop an event before a cassette keeps it (when recording and when
    capturing a replay's outputs, so comparisons see the same thing).

    Return a changed :class:`~pytest_eventrecorder.RecordedEvent` to keep instead,
    ``False`` to drop the event, or ``None`` to leave it as it is. The first non-``None``
    answer wins. Redaction (``redact=``) is applied afterwards.
    """
