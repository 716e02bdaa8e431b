"""Free-text search over a ``.jsonl``'s raw lines, before any line is decoded.

A search matches an event when the case-folded text is in its name, its source or its data
written as JSON (``json.dumps``, non-ASCII kept). Decoding every event to check costs ~10 us
each; looking for the text in the raw bytes costs ~0.2 us. The raw bytes may only rule a
line out where they cannot hide a match, so the shortcut is taken only when:

- the text is ASCII letters and punctuation that JSON never escapes (no quote, backslash,
  control character or space), none of ``{}[],:`` (the file may space its JSON otherwise
  than ``json.dumps``), no digit, dot, sign or lone ``e`` (the file may write a number
  otherwise: ``1E5`` for ``100000.0``);
- the line is ASCII without a backslash: its strings are then written exactly as decoded
  (no ``\\u00e9`` or ``\\"`` escape), and case-folding it is lowering it (no ``ß`` to
  ``ss``, no Kelvin sign to ``k``).

Every other line, and every line holding the text, is decoded and checked as before.
"""

from __future__ import annotations

import bisect
import string
from array import array
from collections.abc import Callable, Iterator, Sequence

from ..cassette import CassetteError
from .lines import RUN_BYTES, LineFile, LineReader, runs

Scan = Callable[[Sequence[int], bytes], Sequence[int]]
"""Of some positions, those whose line may hold a needle (ascending)."""

_SAFE = frozenset(string.ascii_lowercase + "_!#$%&'()*;<=>?@^`|~/")


def raw_needle(text: str) -> bytes | None:
    """The text as searched in raw lines, or ``None`` when they could hide a match."""
    needle = text.casefold()
    if not needle or needle == "e" or not set(needle) <= _SAFE:
        return None
    return needle.encode("ascii")


def line_scan(lines: LineFile, starts: array[int], lengths: array[int]) -> Scan:
    def scan(positions: Sequence[int], needle: bytes) -> Sequence[int]:
        found = array("q")
        reader = lines.reader()
        try:
            for run in _spans(positions, starts, lengths):
                found.extend(_in_run(reader, run, starts, lengths, needle))
        except ValueError as exc:  # a span that is not there: the file changed
            if isinstance(exc, CassetteError):
                raise
            raise CassetteError(f"changed while being read ({exc})") from None
        finally:
            reader.close()
        return found

    return scan


def _spans(
    positions: Sequence[int], starts: array[int], lengths: array[int]
) -> Iterator[Sequence[int]]:
    """The positions in runs read with one call each; every line, in ranges cut at
    :data:`RUN_BYTES` by a bisection (walking a million positions one by one takes 0.3 s)."""
    if not isinstance(positions, range) or positions.step != 1:
        yield from runs(positions, starts, lengths)
        return
    at, stop = positions.start, positions.stop
    while at < stop:
        end = max(at + 1, bisect.bisect_left(starts, starts[at] + RUN_BYTES, at + 1, stop))
        yield range(at, end)
        at = end


def _in_run(
    reader: LineReader,
    run: Sequence[int],
    starts: array[int],
    lengths: array[int],
    needle: bytes,
) -> list[int]:
    first, last = starts[run[0]], run[-1]
    span = reader.read(first, starts[last] + lengths[last] - first)
    if span.isascii() and b"\\" not in span:  # the common case: one search of the span
        lowered = span.lower()
        if needle not in lowered:
            return []
        return _hits(lowered, needle, run, [starts[i] - first for i in run], lengths)
    return [
        i
        for i in run
        if _may_hold(span[starts[i] - first : starts[i] - first + lengths[i]], needle)
    ]


def _may_hold(line: bytes, needle: bytes) -> bool:
    return not line.isascii() or b"\\" in line or needle in line.lower()


def _hits(
    lowered: bytes, needle: bytes, run: Sequence[int], places: list[int], lengths: array[int]
) -> list[int]:
    """The positions of ``run`` whose line (at ``places`` in ``lowered``) holds ``needle``;
    what lies between the run's lines does not count."""
    hits: list[int] = []
    at = lowered.find(needle)
    while at >= 0:
        k = bisect.bisect_right(places, at) - 1
        end = places[k] + lengths[run[k]] if k >= 0 else 0
        if k >= 0 and at + len(needle) <= end:
            hits.append(run[k])
            at = lowered.find(needle, end)
        else:
            at = lowered.find(needle, at + 1)
    return hits
