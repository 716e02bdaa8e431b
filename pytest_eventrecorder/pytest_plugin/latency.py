"""Latency budgets: ``max_latency_ms=`` checks, on replay, the time from each input's publish
to each output it caused.

A budget is a number of milliseconds (``5``), or relative to the recorded latency of the same
output: ``"recorded*2"``, ``"recorded+5"``, ``"recorded*2+5"``. Times come from the monotonic
clock (:func:`time.perf_counter_ns`), measured while the replay runs: meaningful at real
speed (``speed=1``) or under the virtual clock (``clock="recorded"``); at instant speed they
measure only how fast the code under test reacts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..cassette import RecordedEvent
from ..causality import cause_of

Budget = float | str
_RELATIVE = re.compile(
    r"^\s*recorded\s*(?:\*\s*(?P<k>\d+(?:\.\d+)?))?\s*(?:\+\s*(?P<m>\d+(?:\.\d+)?))?\s*$"
)
_FORMS = "a number of ms, or 'recorded*K' / 'recorded+M' / 'recorded*K+M'"


def check_budget(value: object) -> Budget | None:
    """``value`` if it is a valid budget (or None), else an error naming the accepted forms."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"max_latency_ms must be {_FORMS}, not {type(value).__name__}")
    if isinstance(value, str):
        if _RELATIVE.match(value) is None or value.strip() == "recorded":
            raise ValueError(f"max_latency_ms must be {_FORMS}; got {value!r}")
        return value
    if not value > 0:
        raise ValueError(f"max_latency_ms must be > 0 ms, got {value!r}")
    return float(value)


def allowed_ms(budget: Budget, recorded_ms: float) -> float:
    """The most an output may take under ``budget``, given its recorded latency."""
    if not isinstance(budget, str):
        return budget
    found = _RELATIVE.match(budget)
    assert found is not None
    factor = float(found["k"]) if found["k"] else 1.0
    return recorded_ms * factor + (float(found["m"]) if found["m"] else 0.0)


@dataclass(frozen=True)
class Latencies:
    """What one replay measured: per cause, the latency of each output it caused, in the
    order they were published (ms)."""

    by_cause: Mapping[int, Sequence[float]]


def slow_outputs(
    budget: Budget,
    recorded: Sequence[RecordedEvent],
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    pairs: Mapping[int, int],
    measured: Latencies,
) -> str | None:
    """A report of the outputs slower than ``budget`` (``None``: none). ``expected`` and
    ``actual`` are the outputs, ``pairs`` the comparison's actual -> expected pairing."""
    seen: dict[int, int] = {}
    lines = []
    for a, event in enumerate(actual):
        cause = cause_of(event)
        if cause is None or not 0 <= cause < len(recorded):
            continue
        n = seen[cause] = seen.get(cause, -1) + 1
        took = measured.by_cause.get(cause, ())
        if a not in pairs or n >= len(took):
            continue
        was = expected[pairs[a]].timestamp_offset_ms - recorded[cause].timestamp_offset_ms
        limit = allowed_ms(budget, max(was, 0.0))
        if took[n] > limit:
            lines.append(
                f"  '{event.event_name}' from source {event.source!r} (now #{a}), caused by "
                f"input #{cause} {recorded[cause].event_name!r}: {took[n]:.1f} ms > "
                f"{limit:.4g} ms (recorded {was:.3f} ms)"
            )
    if not lines:
        return None
    noun = "output" if len(lines) == 1 else "outputs"
    head = (
        f"{len(lines)} {noun} slower than max_latency_ms={_shown(budget)} (time from the input's "
        "publish to the output's, monotonic clock)"
    )
    return "\n".join([head, *lines])


def _shown(budget: Budget) -> str:
    return f"{budget:g}" if isinstance(budget, float) else repr(budget)
