"""The options of one test's cassette, merged from every place they can be set.

Precedence, highest first: command line (``--record-mode``, ``--replay-speed``) >
``@pytest.mark.event_cassette(...)`` keyword arguments (the closest marker wins) >
the ``event_recorder_config`` fixture > ini options > built-in defaults. Under ``CI=true``
the built-in default record mode is ``none``, so CI never records silently; a mode set
explicitly anywhere above still applies. ``redact`` is the exception to precedence: the
paths of every layer add up, so a marker can hide more than a conftest, never less.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

import pytest

from ..cassette import RecordedEvent
from ..compare import DEFAULT_MATCH_ON, validate_match_on
from ..fieldpaths import check_paths, parse_path
from ..matchers import Matcher, as_matchers
from ..ordering import GLOBAL, PER_SOURCE, Ordered, check_ordered
from ..timetravel import check_clock
from .latency import check_budget
from .modes import (
    CI_RECORD_MODE,
    DEFAULT_RECORD_MODE,
    INSTANT,
    MARKER,
    MODE_SYNONYMS,
    check_record_mode,
    check_speed,
)
from .modes import RECORD_MODES as RECORD_MODES  # imported from here by callers
from .staleness import parse_max_age

if TYPE_CHECKING:
    from ..serialize import Redaction

InputSelector = Callable[[RecordedEvent], bool]
BeforeRecordEvent = Callable[[RecordedEvent], "RecordedEvent | None"]


class OptionsError(ValueError):
    """A cassette option that is unknown or has a value of the wrong kind."""


@dataclass(frozen=True)
class CassetteOptions:
    """Everything that shapes one test's cassette (see the module docstring for precedence)."""

    name: str | None = None
    bus: str = "service_bus"
    record_mode: str = DEFAULT_RECORD_MODE
    inputs: tuple[str, ...] | InputSelector | None = None
    speed: float = INSTANT
    match_on: tuple[str, ...] = DEFAULT_MATCH_ON
    ordered: Ordered = PER_SOURCE
    """``per_source``, ``global`` (``True`` on the marker), ``False`` or rules per event name."""
    ignore_fields: tuple[str, ...] = ()
    redact: tuple[str, ...] = ()
    redact_keys: bool | tuple[str, ...] = True
    before_record_event: BeforeRecordEvent | None = None
    events_module: str | None = None
    clock: str | None = None
    """``"recorded"``: the code under test reads the recording's time while it replays."""
    matchers: tuple[tuple[str, Matcher], ...] = ()
    """Per field path, the matcher that compares it (:mod:`pytest_eventrecorder.matchers`)."""
    max_age: float | None = None
    """Seconds after which the cassette is stale (``"30d"``); ``None``: the ini option's."""
    max_latency_ms: float | str | None = None
    """A latency budget per output (``5``, ``"recorded*2"``): see :mod:`.latency`."""

    def is_input(self, event: RecordedEvent) -> bool:
        """Whether the replay injects ``event`` (everything else is an output to verify)."""
        return self.input_test()(event)

    def redaction(self) -> Redaction:
        """Which keys' values snapshots hide: the credential words by default, none with
        ``redact_keys=False``, the defaults and more with a list."""
        from ..serialize import DEFAULT_REDACT_KEYS, DEFAULT_REDACTION, NO_REDACTION, Redaction

        if self.redact_keys is True:
            return DEFAULT_REDACTION
        if self.redact_keys is False:
            return NO_REDACTION
        return Redaction([*DEFAULT_REDACT_KEYS, *self.redact_keys])

    def input_test(self) -> InputSelector:
        """:meth:`is_input` as one function, built once (it runs for every event)."""
        inputs = self.inputs
        if inputs is None:
            return lambda _event: True
        if callable(inputs):
            return lambda event: bool(inputs(event))
        names = frozenset(inputs)
        return lambda event: event.event_name in names


OPTION_NAMES = tuple(f.name for f in fields(CassetteOptions))
ACCUMULATED = frozenset({"redact"})
"""Options whose values from every layer add up instead of the closest one winning."""
BY_PATH = frozenset({"matchers"})
"""Options merged path by path: the closest layer wins for each path it names."""


@dataclass(frozen=True)
class Layer:
    """One source of option values, named for error messages."""

    label: str
    values: Mapping[str, Any]


def merge_options(layers: Sequence[Layer], *, ci: bool) -> CassetteOptions:
    """Apply layers lowest-precedence first; each value is checked as it is read."""
    merged: dict[str, Any] = {}
    for layer in layers:
        _reject_unknown(layer)
        for key, value in layer.values.items():
            checked = _check(key, value, layer.label)
            if key in ACCUMULATED:
                checked = tuple(dict.fromkeys((*merged.get(key, ()), *checked)))
            if key in BY_PATH:
                checked = tuple({**dict(merged.get(key, ())), **dict(checked)}.items())
            merged[key] = checked
    if "record_mode" not in merged and ci:
        merged["record_mode"] = CI_RECORD_MODE
    options = CassetteOptions(**merged)
    return replace(options, record_mode=MODE_SYNONYMS.get(options.record_mode, options.record_mode))


def _reject_unknown(layer: Layer) -> None:
    for key in layer.values:
        if key not in OPTION_NAMES:
            close = difflib.get_close_matches(str(key), OPTION_NAMES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionsError(
                f"{layer.label}: unknown option {key!r}{hint}; "
                f"valid options are {', '.join(OPTION_NAMES)}"
            )


def _check(key: str, value: Any, label: str) -> Any:
    try:
        return _CHECKS[key](value)
    except (TypeError, ValueError) as exc:
        raise OptionsError(f"{label}: {key}={value!r} is not valid: {exc}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _inputs(value: Any) -> tuple[str, ...] | InputSelector | None:
    if value is None or callable(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError("inputs must be a list of event names, a predicate, or None")
    if not all(isinstance(name, str) and name for name in value):
        raise TypeError("every input must be a non-empty event name")
    return tuple(value)


def _ordered(value: Any) -> Ordered:
    """``True`` on the marker means one global order (the diff engine's ``True`` is the
    per-source order it has always meant)."""
    return GLOBAL if value is True else check_ordered(value)


def _redact_keys(value: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError("must be True, False, or a list of key words to redact as well")
    if not all(isinstance(key, str) and key.strip() for key in value):
        raise TypeError("every key must be a non-empty string")
    return tuple(value)


def _callable_or_none(value: Any) -> BeforeRecordEvent | None:
    if value is not None and not callable(value):
        raise TypeError("must be a function taking a RecordedEvent")
    return value  # type: ignore[no-any-return]


def _matchers(value: Any) -> tuple[tuple[str, Matcher], ...]:
    matchers = as_matchers(value)
    for path in matchers:
        parse_path(path, what="matchers")
    return tuple(matchers.items())


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": _text,
    "bus": _text,
    "record_mode": check_record_mode,
    "inputs": _inputs,
    "speed": check_speed,
    "match_on": validate_match_on,
    "ordered": _ordered,
    "ignore_fields": lambda v: check_paths(v, what="ignore_fields"),
    "redact": lambda v: check_paths(v, what="redact"),
    "redact_keys": _redact_keys,
    "before_record_event": _callable_or_none,
    "events_module": _text,
    "clock": check_clock,
    "matchers": _matchers,
    "max_age": parse_max_age,
    "max_latency_ms": check_budget,
}


def marker_values(item: pytest.Item) -> dict[str, Any]:
    """The event_cassette markers' arguments; the closest marker (function over class) wins."""
    values: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers(name=MARKER))):
        if len(mark.args) > 1:
            raise OptionsError(
                f"@pytest.mark.{MARKER} on {item.nodeid}: takes at most one positional "
                f"argument (the cassette name), got {mark.args!r}"
            )
        values.update(mark.kwargs)
        if mark.args:
            values["name"] = mark.args[0]
    return values
