"""The diff engine: compare a recorded event sequence with a new one.

Shared by the pytest plugin (teardown verification), the CLI ``diff`` command and the
dashboard's ``/api/diff``. Expected is the recorded side, actual the new one; every field
line reads ``path: expected != actual``, as pytest's assertion rewriting does. Values are
equal when they are the same JSON value: numbers by ``==`` (``1 == 1.0``), but a boolean never
equals a number (``true`` turning into ``1`` is a change a test must see).
"""

from __future__ import annotations

import bisect
import difflib
import functools
import itertools
import json
import operator
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

try:
    import orjson
except ImportError:  # the [fast] extra is optional
    orjson = None  # type: ignore[assignment]

from .cassette import Cassette, RecordedEvent
from .fieldpaths import Path as FieldPath
from .fieldpaths import (
    PathUsage,
    drop_fields,
    join_path,
    keep_fields,
    parse_paths,
    reaches,
    split_path,
)
from .matching import MatchRules
from .ordering import Grouping, Ordered, check_ordered

Kind = Literal["unexpected", "changed", "missing", "moved"]
MATCH_FIELDS = ("event_name", "source", "event_data", "event_type", "metadata")
"""The event fields ``match_on`` may name."""
DEFAULT_MATCH_ON = ("event_name", "source", "event_data")
MISSING_VALUE = "<missing>"
_MAX_REPR = 120
_KEY_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_MAX_ALIGN_CELLS = 40_000
"""Above this many (expected x actual) candidates in one stretch, pair in order by name."""
_KIND_ORDER: dict[str, int] = {"changed": 0, "moved": 1, "missing": 2, "unexpected": 3}
_COLORS = {
    "changed": "\x1b[33m",
    "moved": "\x1b[36m",
    "missing": "\x1b[31m",
    "unexpected": "\x1b[35m",
}
_MOVED_HINT = (
    "Order matters within each source; "
    "@pytest.mark.event_cassette(..., ordered=False) compares without order."
)
_RESET = "\x1b[0m"
Judge = Callable[[Any, Any, str], "list[str] | None"]
"""A project's say on one differing leaf: its field lines, or ``None`` for the default."""


@dataclass(frozen=True)
class Difference:
    """One way the actual events depart from the expected (recorded) ones.

    ``changed``: a recorded event and a new one paired, with ``field_diffs``; ``moved``: an
    event equal to a recorded one but out of order (both indices, no field lines);
    ``missing`` / ``unexpected``: an event on one side only.
    """

    kind: Kind
    expected_index: int | None
    actual_index: int | None
    event_name: str
    source: str | None
    field_diffs: tuple[str, ...]
    expected: RecordedEvent | None
    actual: RecordedEvent | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form (events as they are written in a cassette)."""
        return {
            "kind": self.kind,
            "expected_index": self.expected_index,
            "actual_index": self.actual_index,
            "event_name": self.event_name,
            "source": self.source,
            "field_diffs": list(self.field_diffs),
            "expected": None if self.expected is None else self.expected.to_dict(),
            "actual": None if self.actual is None else self.actual.to_dict(),
        }


# --------------------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Comparison:
    """The differences, and which actual event was matched to which recorded one."""

    differences: list[Difference]
    pairs: dict[int, int]
    """Actual index -> expected index, for every pair (identical or changed). Moved events
    are not pairs: they are out of order, so they cannot place new events in time."""
    unmatched_paths: tuple[str, ...] = ()
    """The ``ignore_fields`` entries that name no field of any event on either side."""
    unmatched_match_on: tuple[str, ...] = ()
    """The ``match_on`` paths that name no field of any event on either side."""


def compare_events(
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    *,
    match_on: Sequence[str] = DEFAULT_MATCH_ON,
    ordered: Ordered = True,
    ignore_fields: Sequence[str] = (),
    matchers: MatchRules | None = None,
) -> list[Difference]:
    """Every difference between two event sequences, in sequence order.

    ``ordered`` checks order within each source (sources may interleave differently; also
    ``"global"`` and per-name rules, see :mod:`.ordering`); an
    event that is only out of order is one ``moved`` difference, not a missing and an
    unexpected one. Identical repeated events are matched one by one. ``ignore_fields``
    are dotted paths inside ``event_data`` (``*`` wildcards) left out of the comparison;
    ``matchers`` judge the fields they name (see :mod:`.matching`).
    """
    return match_events(
        expected,
        actual,
        match_on=match_on,
        ordered=ordered,
        ignore_fields=ignore_fields,
        matchers=matchers,
    ).differences


def match_events(
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    *,
    match_on: Sequence[str] = DEFAULT_MATCH_ON,
    ordered: Ordered = True,
    ignore_fields: Sequence[str] = (),
    matchers: MatchRules | None = None,
) -> Comparison:
    """:func:`compare_events`, also returning the pairing (to place new events in time)."""
    matcher = _checked_matcher(match_on, ordered, ignore_fields, matchers)
    diffs = matcher.compare(expected, actual, ordered)
    return _comparison(diffs, matcher, expected, actual, match_on, ignore_fields)


def match_in_step(
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    *,
    match_on: Sequence[str] = DEFAULT_MATCH_ON,
    ordered: Ordered = True,
    ignore_fields: Sequence[str] = (),
    matchers: MatchRules | None = None,
) -> Comparison | None:
    """:func:`match_events` for a replay that changed nothing: each actual event equal to
    the expected one at its position and no matcher rejecting one (every pair is then
    ``i -> i``); ``None`` otherwise."""
    matcher = _checked_matcher(match_on, ordered, ignore_fields, matchers)
    if matcher.in_step(expected, actual) != []:
        return None
    return _comparison([], matcher, expected, actual, match_on, ignore_fields)


def _checked_matcher(
    match_on: Sequence[str],
    ordered: Ordered,
    ignore_fields: Sequence[str],
    matchers: MatchRules | None,
) -> _Matcher:
    paths = parse_paths(ignore_fields, what="ignore_fields")
    check_ordered(ordered)
    return _Matcher(validate_match_on(match_on), paths, matchers)


def _comparison(
    diffs: list[Difference],
    matcher: _Matcher,
    expected: Sequence[RecordedEvent],
    actual: Sequence[RecordedEvent],
    match_on: Sequence[str],
    ignore_fields: Sequence[str],
) -> Comparison:
    unmatched = unmatched_paths(ignore_fields, itertools.chain(expected, actual))
    unmatched_on = _unmatched_match_on(match_on, itertools.chain(expected, actual))
    return Comparison(diffs, matcher.partners, unmatched, unmatched_on)


def _unmatched_match_on(
    match_on: Sequence[str], events: Iterable[RecordedEvent]
) -> tuple[str, ...]:
    """The ``match_on`` paths that name no field of any of the events."""
    waiting = {entry: _match_path(entry) for entry in match_on if "." in entry}
    for event in events:
        if not waiting:
            break
        for entry, (root, path) in list(waiting.items()):
            if reaches(getattr(event, root), path or ()):
                del waiting[entry]
    return tuple(waiting)


def unmatched_paths(paths: Sequence[str], events: Iterable[RecordedEvent]) -> tuple[str, ...]:
    """The paths that name no field in any of the events' data (a typo, usually)."""
    usage = PathUsage(paths)
    for event in events:
        if not usage.unmatched():
            break
        usage.see(event.event_data)
    return tuple(usage.unmatched())


def unmatched_note(path: str, what: str = "ignore_fields") -> str:
    """The one wording of the warning about a path that names no field."""
    return f"{what} path {path!r} matches no field in any event's data"


def diff_cassettes(
    a: Cassette, b: Cassette, *, ignore_fields: Sequence[str] = ()
) -> list[Difference]:
    """The differences from cassette ``a`` (expected) to cassette ``b`` (actual)."""
    return compare_events(a.events, b.events, ignore_fields=ignore_fields)


def validate_match_on(match_on: Sequence[str]) -> tuple[str, ...]:
    """``match_on`` as a tuple, or ``ValueError`` naming the unknown fields. An entry is a
    top-level field, or a field path inside ``event_data`` or ``metadata``
    (``event_data.order.id``): then only the fields it names are compared."""
    if isinstance(match_on, str) or not match_on:
        raise ValueError(f"match_on must be a non-empty list of event fields, got {match_on!r}")
    unknown = [f for f in match_on if not _known(f)]
    if unknown:
        raise ValueError(
            f"match_on: unknown field(s) {unknown}; choose from {list(MATCH_FIELDS)}, or a "
            "path inside event_data or metadata ('event_data.order.id')"
        )
    for entry in match_on:
        _match_path(entry)
    return tuple(match_on)


_FIELD_ROOTS = ("event_data", "metadata")
"""The top-level fields that hold fields a ``match_on`` path can name."""


def _known(entry: object) -> bool:
    if not isinstance(entry, str):
        return False
    root, dot, _ = entry.partition(".")
    return root in (_FIELD_ROOTS if dot else MATCH_FIELDS)


def _match_path(entry: str) -> tuple[str, FieldPath | None]:
    """A ``match_on`` entry as (top-level field, path inside it or None for all of it)."""
    root, dot, rest = entry.partition(".")
    if not dot:
        return root, None
    return root, split_path(rest, what=f"match_on {entry!r}")


def _projections(match_on: tuple[str, ...]) -> dict[str, tuple[FieldPath, ...] | None]:
    """Per top-level field: None to compare it whole, else the paths to compare in it."""
    out: dict[str, tuple[FieldPath, ...] | None] = {}
    for entry in match_on:
        root, path = _match_path(entry)
        known = out.get(root, ())
        out[root] = None if path is None or known is None else (*known, path)
    return out


# --------------------------------------------------------------------------- streaming

STREAM_WINDOW = 8192
"""The most events per side a streamed diff compares at once (its memory bound)."""


class DiffStream:
    """The differences between two event streams, read once and in bounded memory.

    Iterating yields what :func:`diff_cassettes` reports, in recorded order. When both
    streams hold at most ``window`` events, that is exactly its report. Longer streams are
    compared a window at a time: events equal on both sides pass without being kept; after
    a difference both sides are read ahead until an event equal on both sides closes the
    stretch (the window widens up to ``window`` events per side). So an event that moved
    farther than the window, or an insertion longer than it, shows as ``missing`` and
    ``unexpected`` (or ``changed``) events rather than ``moved`` ones.
    ``counts``, ``last_offsets`` and ``unmatched_paths`` are final once iteration ends.
    """

    def __init__(
        self,
        expected: Iterable[RecordedEvent],
        actual: Iterable[RecordedEvent],
        *,
        ignore_fields: Sequence[str] = (),
        window: int = STREAM_WINDOW,
    ) -> None:
        self._paths = parse_paths(ignore_fields, what="ignore_fields")
        self._usage = PathUsage(ignore_fields)
        self._exp = _Side(expected, self._usage)
        self._act = _Side(actual, self._usage)
        self.window = max(window, 4)

    @property
    def counts(self) -> tuple[int, int]:
        """Events read from each side."""
        return self._exp.count, self._act.count

    @property
    def last_offsets(self) -> tuple[float, float]:
        """The latest ``timestamp_offset_ms`` read on each side."""
        return self._exp.last_offset, self._act.last_offset

    @property
    def unmatched_paths(self) -> tuple[str, ...]:
        """The ``ignore_fields`` entries that named no field of any event read."""
        return tuple(self._usage.unmatched())

    def __iter__(self) -> Iterator[Difference]:
        exp, act = self._exp, self._act
        exp.fill(self.window)
        act.fill(self.window)
        if exp.done and act.done:  # it all fits: the whole-sequence comparison
            yield from self._matcher().compare(exp.take(len(exp.buf)), act.take(len(act.buf)), True)
            return
        yield from self._rounds()

    def _matcher(self) -> _Matcher:
        return _Matcher(DEFAULT_MATCH_ON, self._paths)

    def _rounds(self) -> Iterator[Difference]:
        exp, act = self._exp, self._act
        same = self._matcher().same
        first = min(max(64, self.window // 32), self.window)
        size = first
        while True:
            _skip_equal_heads(exp, act, same)
            if not exp.buf and not act.buf:
                return
            exp.fill(size)
            act.fill(size)
            found = self._round(size)
            if found is None:
                size = min(size * 2, self.window)
                continue
            yield from found
            size = first

    def _round(self, size: int) -> list[Difference] | None:
        """The differences up to the last safe cut, or None when the window must widen."""
        exp, act = self._exp, self._act
        e_list, a_list = list(exp.buf), list(act.buf)
        matcher = self._matcher()
        diffs = matcher.compare(e_list, a_list, True)
        cut: tuple[int, int] | None = (len(e_list), len(a_list))
        if not (exp.done and act.done):
            cut = _last_cut(matcher.partners, diffs, exp.limit(size), act.limit(size))
        if cut is None and size < self.window:
            return None
        if cut is None:  # nothing closes a stretch even at full width: take half of it
            cut = (_half(e_list), _half(a_list))
            matcher = self._matcher()
            diffs = matcher.compare(e_list[: cut[0]], a_list[: cut[1]], True)
        e_base, a_base = exp.base, act.base
        exp.take(cut[0])
        act.take(cut[1])
        return [_shifted(d, e_base, a_base) for d in diffs if _before(d, cut)]


def first_differences(
    differences: Iterable[Difference], keep: int
) -> tuple[list[Difference], Counter[str]]:
    """The first ``keep`` differences, and how many of each kind there are in all."""
    first: list[Difference] = []
    counts: Counter[str] = Counter()
    for difference in differences:
        counts[difference.kind] += 1
        if len(first) < keep:
            first.append(difference)
    return first, counts


class _Side:
    """One stream being read: a buffer of events not yet settled, and running totals."""

    def __init__(self, events: Iterable[RecordedEvent], usage: PathUsage) -> None:
        self._events = iter(events)
        self._usage = usage
        self.buf: deque[RecordedEvent] = deque()
        self.base = 0
        """The index of ``buf[0]`` in the whole stream."""
        self.done = False
        self.count = 0
        self.last_offset = 0.0

    def fill(self, size: int) -> None:
        while len(self.buf) < size and not self.done:
            event = next(self._events, None)
            if event is None:
                self.done = True
                return
            self._usage.see(event.event_data)
            self.count += 1
            self.last_offset = max(self.last_offset, event.timestamp_offset_ms)
            self.buf.append(event)

    def take(self, count: int) -> list[RecordedEvent]:
        taken = [self.buf.popleft() for _ in range(count)]
        self.base += count
        return taken

    def limit(self, size: int) -> int:
        """How many buffered events a cut may settle: near the end of a window a partner
        may still be unread, so the last quarter waits for the next round."""
        return len(self.buf) if self.done else len(self.buf) - size // 4


def _skip_equal_heads(
    exp: _Side, act: _Side, same: Callable[[RecordedEvent, RecordedEvent], bool]
) -> None:
    """Drop events equal on both sides, in step: the common case keeps nothing."""
    while True:
        exp.fill(1)
        act.fill(1)
        if not exp.buf or not act.buf or not same(exp.buf[0], act.buf[0]):
            return
        exp.buf.popleft()
        act.buf.popleft()
        exp.base += 1
        act.base += 1


def _last_cut(
    partners: dict[int, int], diffs: list[Difference], limit_e: int, limit_a: int
) -> tuple[int, int] | None:
    """The longest prefixes (expected, actual) that end just after an equal pair and that no
    pair (equal, changed or moved) straddles, within the limits; None when there is none."""
    changed = {d.actual_index for d in diffs if d.kind == "changed"}
    pairs = sorted(
        [(e, a, a not in changed) for a, e in partners.items()]
        + [
            (d.expected_index, d.actual_index, False)
            for d in diffs
            if d.kind == "moved" and d.expected_index is not None and d.actual_index is not None
        ]
    )
    a_sorted = sorted(a for _, a, _ in pairs)
    best, top = None, -1
    for k, (e, a, equal) in enumerate(pairs):
        top = max(top, a)
        if e >= limit_e or top >= limit_a:
            break
        if equal and bisect.bisect_right(a_sorted, top) == k + 1:
            best = (e + 1, top + 1)
    return best


def _half(events: list[RecordedEvent]) -> int:
    return max(1, len(events) // 2) if events else 0


def _before(diff: Difference, cut: tuple[int, int]) -> bool:
    e, a = diff.expected_index, diff.actual_index
    return (e is None or e < cut[0]) and (a is None or a < cut[1])


def _shifted(diff: Difference, e_base: int, a_base: int) -> Difference:
    e, a = diff.expected_index, diff.actual_index
    return replace(
        diff,
        expected_index=None if e is None else e + e_base,
        actual_index=None if a is None else a + a_base,
    )


@dataclass(frozen=True)
class _View:
    """An event with its index and the projection that is compared."""

    index: int
    event: RecordedEvent
    fields: dict[str, Any]
    key: Hashable

    @functools.cached_property
    def leaves(self) -> dict[str, Hashable]:
        """Every compared leaf value by its dotted path (for similarity scores)."""
        out: dict[str, Hashable] = {}
        _flatten(self.fields, "", out)
        return out


def _flatten(value: Any, path: str, out: dict[str, Hashable]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}", out)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{path}.{i}", out)
    else:
        out[path] = _canonical(value)


def _similarity(a: _View, b: _View) -> float:
    """The share of leaf fields two events agree on, in [0, 1]."""
    la, lb = a.leaves, b.leaves
    union = la.keys() | lb.keys()
    if not union:
        return 1.0
    return sum(1 for k in union if k in la and k in lb and la[k] == lb[k]) / len(union)


def _best_pairs(exp: list[_View], act: list[_View]) -> list[tuple[int, int]]:
    """An order-preserving pairing of same-named events: as many pairs as possible, then
    the most similar ones (dynamic programming; plain in-order pairing when huge)."""
    if len(exp) * len(act) > _MAX_ALIGN_CELLS:
        return _pairs_by_name(exp, act)
    rows, cols = len(exp), len(act)
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if exp[i].event.event_name == act[j].event.event_name:
                best = max(best, 1.0 + _similarity(exp[i], act[j]) + score[i + 1][j + 1])
            score[i][j] = best
    pairs, i, j = [], 0, 0
    while i < rows and j < cols:
        if score[i][j] == score[i + 1][j]:
            i += 1
        elif score[i][j] == score[i][j + 1]:
            j += 1
        else:
            pairs.append((i, j))
            i, j = i + 1, j + 1
    return pairs


def _pairs_by_name(exp: list[_View], act: list[_View]) -> list[tuple[int, int]]:
    """Same-named events paired in order. The names' common start and end pair up
    directly; only the stretch between is aligned, since aligning sequences of a few
    repeated names takes time that grows with the square of their length."""
    a = [v.event.event_name for v in exp]
    b = [v.event.event_name for v in act]
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    names = difflib.SequenceMatcher(
        None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False
    )
    middle = [
        (head + i1 + k, head + j1 + k)
        for tag, i1, i2, j1, _j2 in names.get_opcodes()
        if tag == "equal"
        for k in range(i2 - i1)
    ]
    ends = [(len(a) - tail + k, len(b) - tail + k) for k in range(tail)]
    return [(k, k) for k in range(head)] + middle + ends


def _in_recorded_order(
    diffs: list[Difference], partners: dict[int, int], n_expected: int, n_actual: int
) -> list[Difference]:
    """Sorted by recorded position. An unexpected event goes just before the recorded event
    that the next paired actual event matched (after the gap's missing events, as a
    unified diff puts ``+`` lines after ``-`` lines), so the report reads like the timeline."""
    anchors = [n_expected] * n_actual
    anchor = n_expected
    for j in reversed(range(n_actual)):
        anchors[j] = anchor
        anchor = partners.get(j, anchor)

    def key(diff: Difference) -> tuple[int, int, int]:
        if diff.expected_index is not None:
            return (diff.expected_index, 0, -1 if diff.actual_index is None else diff.actual_index)
        assert diff.actual_index is not None
        return (anchors[diff.actual_index], -1, diff.actual_index)

    return sorted(diffs, key=key)


class _Matcher:
    def __init__(
        self,
        match_on: tuple[str, ...],
        ignore: tuple[tuple[str, ...], ...],
        rules: MatchRules | None = None,
    ) -> None:
        self._projections = _projections(match_on)
        self.match_on = tuple(self._projections)
        """The top-level fields compared (wholly, or the parts ``match_on`` paths name)."""
        self.rules = rules if rules and "event_data" in self.match_on else None
        # matched fields leave the pairing key, as ignored ones do; their matchers judge them
        self.ignore = ignore + (self.rules.paths if self.rules else ())
        self._ignored = ignore
        whole = not self.ignore and all(p is None for p in self._projections.values())
        self._fields = operator.attrgetter(*self.match_on) if whole else None
        """Every compared field at once, when each is compared whole (the default)."""
        self.partners: dict[int, int] = {}
        """Actual index -> expected index of every pair (equal or changed)."""

    def compare(
        self, expected: Sequence[RecordedEvent], actual: Sequence[RecordedEvent], ordered: Ordered
    ) -> list[Difference]:
        """The differences in recorded order; ``partners`` holds the pairing after."""
        found = self.in_step(expected, actual)
        if found is not None:
            return found
        exp = [self.view(i, e) for i, e in enumerate(expected)]
        act = [self.view(i, e) for i, e in enumerate(actual)]
        if ordered is not False:
            diffs = [
                d
                for e, a, in_order in self.groups(exp, act, ordered)
                for d in (self.aligned(e, a) if in_order else self.unordered(e, a))
            ]
            diffs = _with_moves(diffs, exp, act)
        else:
            diffs = list(self.unordered(exp, act))
        diffs = self._judged_pairs(diffs, expected, actual)
        return _in_recorded_order(diffs, self.partners, len(exp), len(act))

    def in_step(
        self, expected: Sequence[RecordedEvent], actual: Sequence[RecordedEvent]
    ) -> list[Difference] | None:
        """The common case, fast: as many events on each side, each equal to its
        counterpart (only matchers may then find changes); ``None`` otherwise."""
        if len(expected) != len(actual) or not self._all_same(expected, actual):
            return None
        self.partners.update((i, i) for i in range(len(actual)))
        return self._judged_pairs([], expected, actual)

    def _all_same(self, expected: Sequence[RecordedEvent], actual: Sequence[RecordedEvent]) -> bool:
        """:meth:`same` of every pair. With every field compared whole, one ``same_value``
        of the two lists of fields says it: ``==`` and the bool check both go element by
        element, and one call costs a third of one per pair (two orjson calls in all)."""
        fields = self._fields
        if fields is None:
            return all(map(self.same, expected, actual))
        return same_value(list(map(fields, expected)), list(map(fields, actual)))

    def _judged_pairs(
        self,
        diffs: list[Difference],
        expected: Sequence[RecordedEvent],
        actual: Sequence[RecordedEvent],
    ) -> list[Difference]:
        """Pairs equal on their key whose matched fields a matcher rejects, as changed."""
        if self.rules is None or not self.rules.matchers:
            return diffs
        diffs = [self._with_whole_data(d) for d in diffs]
        judged = {d.actual_index for d in diffs if d.kind == "changed"}
        for a, e in sorted(self.partners.items()):
            if a in judged:
                continue
            lines = self.rules.check(expected[e].event_data, actual[a].event_data)
            if lines:
                exp, act = expected[e], actual[a]
                diffs.append(
                    Difference("changed", e, a, exp.event_name, exp.source, tuple(lines), exp, act)
                )
        return diffs

    def _with_whole_data(self, diff: Difference) -> Difference:
        """A missing or unexpected event's data line with its matched fields (only its
        ignored ones left out): the pairing key's view would hide them."""
        event = diff.expected or diff.actual
        if diff.kind not in ("missing", "unexpected") or event is None:
            return diff
        data = drop_fields(event.event_data, self._ignored)
        return replace(diff, field_diffs=(f"event_data: {_show(data)}",))

    def same(self, expected: RecordedEvent, actual: RecordedEvent) -> bool:
        """Whether two events are equal on every compared field (Python ``==``)."""
        if self._fields is not None:  # one comparison of tuples, no look-up per field
            return same_value(self._fields(expected), self._fields(actual))
        for name in self.match_on:
            if not same_value(self._compared(expected, name), self._compared(actual, name)):
                return False
        return True

    def _compared(self, event: RecordedEvent, name: str) -> Any:
        """The part of one top-level field that is compared."""
        value = getattr(event, name)
        paths = self._projections[name]
        if paths is not None:
            value = keep_fields(value, paths)
        if name == "event_data" and self.ignore:
            value = drop_fields(value, self.ignore)
        return value

    def view(self, index: int, event: RecordedEvent) -> _View:
        fields = {name: self._compared(event, name) for name in self.match_on}
        return _View(index, event, fields, _fast_key(fields))

    def groups(
        self, exp: list[_View], act: list[_View], ordered: Ordered
    ) -> Iterator[tuple[list[_View], list[_View], bool]]:
        """Groups compared independently, and whether each keeps order: one per source
        (when sources are matched) by default; see :mod:`.ordering` for the other rules."""
        grouping = Grouping(ordered, by_source="source" in self.match_on)
        groups: dict[Hashable, tuple[list[_View], list[_View]]] = {}
        in_order: dict[Hashable, bool] = {}
        for side, views in enumerate((exp, act)):
            for view in views:
                key, in_order[key] = grouping.group(view.event)
                groups.setdefault(key, ([], []))[side].append(view)
        yield from ((e, a, in_order[key]) for key, (e, a) in groups.items())

    def aligned(self, exp: list[_View], act: list[_View]) -> Iterator[Difference]:
        """Differences of two ordered sequences: a longest-common-subsequence alignment."""
        matcher = difflib.SequenceMatcher(
            None, [v.key for v in exp], [v.key for v in act], autojunk=False
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                self.partners.update(
                    (a.index, e.index) for e, a in zip(exp[i1:i2], act[j1:j2], strict=True)
                )
            else:
                yield from self._pair_in_order(exp[i1:i2], act[j1:j2])

    def _pair_in_order(self, exp: list[_View], act: list[_View]) -> Iterator[Difference]:
        """Within a non-matching stretch, pair same-named events in order as "changed",
        choosing the most similar partners (so one inserted event does not make every
        later one look changed); unpaired events are missing or unexpected."""
        pairs = _best_pairs(exp, act)
        paired_exp = {i for i, _ in pairs}
        paired_act = {j for _, j in pairs}
        yield from _real(self.changed(exp[i], act[j]) for i, j in pairs)
        yield from (_missing(e) for i, e in enumerate(exp) if i not in paired_exp)
        yield from (_unexpected(a) for j, a in enumerate(act) if j not in paired_act)

    def unordered(self, exp: list[_View], act: list[_View]) -> Iterator[Difference]:
        """Differences ignoring order: identical events pair first, then same name and source."""
        pool: dict[Hashable, deque[_View]] = defaultdict(deque)
        for view in act:
            pool[view.key].append(view)
        leftover_exp = [e for e in exp if not self._pair_identical(pool, e)]
        leftover_act = sorted((v for q in pool.values() for v in q), key=lambda v: v.index)
        by_name: dict[tuple[str, str | None], deque[_View]] = defaultdict(deque)
        for view in leftover_act:
            by_name[(view.event.event_name, view.event.source)].append(view)
        for e in leftover_exp:
            partner = _take(by_name, (e.event.event_name, e.event.source))
            yield from _real([_missing(e) if partner is None else self.changed(e, partner)])
        for queue in by_name.values():
            yield from (_unexpected(a) for a in queue)

    def _pair_identical(self, pool: dict[Hashable, deque[_View]], exp: _View) -> bool:
        partner = _take(pool, exp.key)
        if partner is not None:
            self.partners[partner.index] = exp.index
        return partner is not None

    def changed(self, exp: _View, act: _View) -> Difference:
        """A pair's field differences (none when only the fast keys differed, as 1 vs 1.0)."""
        self.partners[act.index] = exp.index
        judge = self.rules.judge if self.rules and self.rules.hook else None
        lines = [
            line
            for name in self.match_on
            for line in field_diff(exp.fields[name], act.fields[name], name, judge)
        ]
        if self.rules is not None:
            lines += self.rules.check(exp.event.event_data, act.event.event_data)
        return Difference(
            "changed",
            exp.index,
            act.index,
            exp.event.event_name,
            exp.event.source,
            tuple(lines),
            exp.event,
            act.event,
        )


def _with_moves(diffs: list[Difference], exp: list[_View], act: list[_View]) -> list[Difference]:
    """Each unexpected event merged with an unclaimed missing one equal to it, as "moved".

    The alignment only keeps events in order, so an event that merely moved shows up as
    missing where it was recorded and unexpected where it now is; one entry says so.
    """
    moved = _pair_equal(
        [
            exp[d.expected_index]
            for d in diffs
            if d.kind == "missing" and d.expected_index is not None
        ],
        [
            act[d.actual_index]
            for d in diffs
            if d.kind == "unexpected" and d.actual_index is not None
        ],
    )
    if not moved:
        return diffs
    moved_exp = {e.index for e, _ in moved}
    moved_act = {a.index for _, a in moved}
    kept = [
        d
        for d in diffs
        if not (d.kind == "missing" and d.expected_index in moved_exp)
        and not (d.kind == "unexpected" and d.actual_index in moved_act)
    ]
    return kept + [_moved(e, a) for e, a in moved]


def _pair_equal(missing: list[_View], unexpected: list[_View]) -> list[tuple[_View, _View]]:
    """Pairs of equal events, both sides taken in order (extra repeats stay unpaired)."""
    # _canonical, unlike the fast key, is the same for 1 and 1.0, so a bucket holds every
    # equal candidate; same_value then rules out the rare false friends (keys 1 and "1").
    waiting: dict[Hashable, list[_View]] = defaultdict(list)
    for view in sorted(missing, key=lambda v: v.index):
        waiting[_canonical(view.fields)].append(view)
    pairs = []
    for view in sorted(unexpected, key=lambda v: v.index):
        queue = waiting.get(_canonical(view.fields), [])
        match = next((m for m in queue if same_value(m.fields, view.fields)), None)
        if match is not None:
            queue.remove(match)
            pairs.append((match, view))
    return pairs


def _real(diffs: Iterable[Difference]) -> Iterator[Difference]:
    """Drop "changed" pairs without a single differing field: they are equal after all."""
    return (d for d in diffs if d.kind != "changed" or d.field_diffs)


def _fast_key(fields: dict[str, Any]) -> Hashable:
    """A cheap identity for matching: canonical JSON (C-accelerated), else a slower form.

    Keys may differ for equal data (``1`` vs ``1.0``); such pairs are compared field by
    field later and dropped when nothing differs, so a key never hides a difference.
    """
    try:
        return _KEY_ENCODER.encode(fields)
    except (TypeError, ValueError):
        return _canonical(fields)


def _take(pool: dict[Any, deque[_View]], key: Hashable) -> _View | None:
    queue = pool.get(key)
    return queue.popleft() if queue else None


def _missing(view: _View) -> Difference:
    ev = view.event
    return Difference(
        "missing", view.index, None, ev.event_name, ev.source, _data_line(view), ev, None
    )


def _unexpected(view: _View) -> Difference:
    ev = view.event
    return Difference(
        "unexpected", None, view.index, ev.event_name, ev.source, _data_line(view), None, ev
    )


def _moved(exp: _View, act: _View) -> Difference:
    ev = exp.event
    return Difference("moved", exp.index, act.index, ev.event_name, ev.source, (), ev, act.event)


def _data_line(view: _View) -> tuple[str, ...]:
    return (f"event_data: {_show(view.fields.get('event_data', view.event.event_data))}",)


# --------------------------------------------------------------------------- field diffs


def field_diff(expected: Any, actual: Any, path: str, judge: Judge | None = None) -> list[str]:
    """Lines ``path: expected != actual`` for every leaf that differs (recursing into
    dicts and lists; a key present on one side only shows ``<missing>`` on the other).
    ``judge`` may answer for a differing leaf (its lines), or pass with ``None``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        keys = list(expected) + [k for k in actual if k not in expected]
        return [
            line
            for key in keys
            for line in _member_diff(expected, actual, key, join_path(path, key), judge)
        ]
    if isinstance(expected, list) and isinstance(actual, list):
        return [
            line
            for i in range(max(len(expected), len(actual)))
            for line in _member_diff(
                dict(enumerate(expected)), dict(enumerate(actual)), i, f"{path}.{i}", judge
            )
        ]
    if same_value(expected, actual):
        return []
    verdict = None if judge is None else judge(expected, actual, path)
    return [f"{path}: {_show(expected)} != {_show(actual)}"] if verdict is None else verdict


def same_value(expected: Any, actual: Any) -> bool:
    """Equal as JSON values: ``==``, except that booleans and numbers never match."""
    return bool(expected == actual) and (
        _same_text(expected, actual) or not _bool_mismatch(expected, actual)
    )


def _same_text(a: Any, b: Any) -> bool:
    """Whether two ``==`` values encode to the same JSON (with orjson, the ``[fast]``
    extra): then no position holds a bool on one side and a number on the other (``true``
    is never ``1``). A fifth of :func:`_bool_mismatch`'s cost on a small event; ``False``
    sends the rest (other key order, values orjson refuses) to the walk."""
    if orjson is None:
        return False
    try:
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # orjson.JSONEncodeError: a value orjson does not encode
        return False


def _bool_mismatch(a: Any, b: Any) -> bool:
    """Whether two ``==`` values differ in a bool-versus-number position."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is not tb
    if ta is dict and tb is dict:
        pairs: Iterable[tuple[Any, Any]] = [(value, b[key]) for key, value in a.items()]
    elif ta in _SEQUENCES and tb in _SEQUENCES:
        pairs = zip(a, b, strict=False)  # == held: as long as each other
    else:
        return False
    for x, y in pairs:
        kind = type(x)
        # Two values of one plain type cannot be a bool and a number: no call for them.
        if (kind is not type(y) or kind in _NESTED) and _bool_mismatch(x, y):
            return True
    return False


_SEQUENCES = (list, tuple)
_NESTED = frozenset((dict, list, tuple))


def _member_diff(
    expected: dict[Any, Any], actual: dict[Any, Any], key: Any, path: str, judge: Judge | None
) -> list[str]:
    if key not in actual:
        return [f"{path}: {_show(expected[key])} != {MISSING_VALUE}"]
    if key not in expected:
        return [f"{path}: {MISSING_VALUE} != {_show(actual[key])}"]
    return field_diff(expected[key], actual[key], path, judge)


def _canonical(value: Any) -> Hashable:
    """A hashable form of JSON data (used where a key must be hashable and cheap to build)."""
    if isinstance(value, dict):
        return ("d", tuple(sorted((str(k), _canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(_canonical(v) for v in value))
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if value is None or isinstance(value, str):
        return ("s", value)
    return ("o", repr(value))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


# --------------------------------------------------------------------------- the report


def format_report(
    differences: Sequence[Difference],
    *,
    cassette_path: str | Path | None = None,
    rerecord_hint: str | None = None,
    color: bool = False,
) -> str:
    """A readable report listing every difference (not only the first)."""
    if not differences:
        return "no differences: the events match the recording"
    counts: Counter[str] = Counter(d.kind for d in differences)
    lines = report_head(counts, cassette_path)
    for number, diff in enumerate(differences, start=1):
        lines += report_entry(number, diff, color)
    return "\n".join(lines + report_tail(counts, rerecord_hint))


def report_head(counts: Mapping[str, int], cassette_path: str | Path | None = None) -> list[str]:
    """The report's first lines, from the number of differences of each kind."""
    total = sum(counts.values())
    parts = ", ".join(f"{counts[kind]} {kind}" for kind in _KIND_ORDER if counts.get(kind))
    noun = "difference" if total == 1 else "differences"
    where = f" from cassette {cassette_path}" if cassette_path is not None else ""
    return [f"{total} event {noun}{where} ({parts})", "(field lines read: recorded != actual)", ""]


def report_entry(number: int, diff: Difference, color: bool = False) -> list[str]:
    """One difference's lines: its title, then its field lines."""
    return [_title(number, diff, color), *(f"      {line}" for line in diff.field_diffs)]


def report_tail(counts: Mapping[str, int], rerecord_hint: str | None = None) -> list[str]:
    """The report's closing hints."""
    lines = ["", _MOVED_HINT] if counts.get("moved") else []
    if rerecord_hint:
        lines += ["", f"If the new behaviour is intended, re-record with: {rerecord_hint}"]
    return lines


def _title(number: int, diff: Difference, color: bool) -> str:
    source = f" from source {diff.source!r}" if diff.source is not None else " (no source)"
    if diff.kind in ("changed", "moved"):
        where = f"recorded #{diff.expected_index}, now #{diff.actual_index}"
        text = f"{diff.kind} {diff.event_name!r}{source} ({where})"
    elif diff.kind == "missing":
        text = (
            f"missing {diff.event_name!r}{source}: recorded #{diff.expected_index} "
            "was not published"
        )
    else:
        text = f"unexpected {diff.event_name!r}{source}: #{diff.actual_index} was never recorded"
    if color:
        text = f"{_COLORS[diff.kind]}{text}{_RESET}"
    return f"  [{number}] {text}"
