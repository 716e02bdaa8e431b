"""Shared pieces of the reliability suite: reproducible hypothesis settings, event strategies,
and the service/proxy helpers of the other test folders (loaded by path, not copied)."""

from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pytest_eventrecorder import RecordedEvent

TESTS = Path(__file__).resolve().parents[1]
START = "2025-01-02T03:04:05.678Z"

FORMATS = (".json", ".yaml", ".yml", ".jsonl")
SUFFIXES = FORMATS + tuple(f"{s}.gz" for s in FORMATS)
"""Every suffix a cassette may have."""


FUZZ_SCALE = int(os.environ.get("EVENTRECORDER_FUZZ_SCALE", "1"))
"""Multiplies every example budget: ``EVENTRECORDER_FUZZ_SCALE=20 pytest tests/reliability``
for a deep run; CI keeps 1 (the suite then runs in about a minute)."""


def fuzz(max_examples: int) -> settings:
    """Derandomized (CI runs the same examples every time), no deadline (shared machine),
    no example database (nothing written outside the test's folders)."""
    return settings(
        max_examples=max_examples * FUZZ_SCALE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )


def _no_split_pair(text: str) -> bool:
    """JSON reads the escapes of a high surrogate then a low one as the character they encode
    (RFC 8259), so such a pair of lone code points cannot survive a JSON file: a known limit."""
    return not any(
        "\ud800" <= a <= "\udbff" and "\udc00" <= b <= "\udfff" for a, b in itertools.pairwise(text)
    )


# Every code point, lone surrogates and U+0085/U+2028/BOM included: users' data is not tidy.
_chars = st.characters(exclude_categories=())
any_text = st.text(_chars, max_size=12).filter(_no_split_pair)
names = st.text(_chars, max_size=10).filter(_no_split_pair)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=10,
)

offsets = st.floats(0, 1e12, allow_nan=False, allow_infinity=False) | st.integers(0, 2**53)


@st.composite
def recorded_events(draw: Any) -> RecordedEvent:
    metadata = draw(st.none() | st.dictionaries(any_text, json_values, min_size=1, max_size=3))
    return RecordedEvent(
        timestamp_offset_ms=draw(offsets),
        event_name=draw(names),
        event_data=draw(json_values),
        source=draw(st.none() | names),
        event_type=draw(st.none() | st.just("pkg.events:Order") | names),
        metadata=metadata,
    )


event_lists = st.lists(recorded_events(), max_size=8).map(
    lambda evs: sorted(evs, key=lambda e: e.timestamp_offset_ms)
)
header_metadata = st.dictionaries(any_text, json_values, max_size=3)
session_names = names.filter(lambda s: bool(s))


def load_by_path(name: str, path: Path) -> ModuleType:
    """Import a helper module of another test folder without putting that folder on sys.path
    (every folder has a ``conftest``; importing by name would pick the wrong one)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def root_conftest() -> ModuleType:
    return load_by_path("eventrecorder_reliability_root_conftest", TESTS / "conftest.py")
