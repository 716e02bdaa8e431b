"""Fixtures for the core engine tests: a seed-style bus and importable event modules."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from core_helpers import ServiceBus


@pytest.fixture
def bus() -> ServiceBus:
    return ServiceBus()


_module_ids = itertools.count()


@pytest.fixture
def events_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], str]]:
    """Writes Python source as a fresh importable module; returns its name."""
    folder = tmp_path / "event_modules"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    created: list[str] = []

    def write(source: str) -> str:
        name = f"core_test_events_{next(_module_ids)}"
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield write
    for name in created:
        sys.modules.pop(name, None)
