"""Hooks the pytest plugin adds (registered through ``pytest_addhooks``).

Implement them in a ``conftest.py`` or a plugin, like any pytest hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported when a cassette is used, not by every session
    from ..cassette import RecordedEvent


@pytest.hookspec(firstresult=True)
def pytest_eventrecorder_before_record_event(
    event: RecordedEvent, item: pytest.Item
) -> RecordedEvent | bool | None:
    """Change or drop an event before a cassette keeps it (when recording and when
    capturing a replay's outputs, so comparisons see the same thing).

    Return a changed :class:`~pytest_eventrecorder.RecordedEvent` to keep instead,
    ``False`` to drop the event, or ``None`` (no opinion) or ``True`` to leave it as it is.
    The first non-``None`` answer wins; any other answer fails the test. The marker's
    ``before_record_event`` runs next, then redaction (``redact=``).
    """


@pytest.hookspec(firstresult=True)
def pytest_eventrecorder_match(recorded: object, actual: object, path: str) -> bool | None:
    """Judge one field that differs between a recorded output and a replayed one (a field
    no ``matchers=`` entry names): ``True`` accepts the new value, ``False`` rejects it
    (the report says this hook did), ``None`` leaves it to plain equality. ``path`` reads
    as the report prints it (``event_data.order.id``). The first non-``None`` answer wins.
    """
