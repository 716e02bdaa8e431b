"""The lines of a ``.jsonl`` or ``.jsonl.gz`` file: read once in blocks, then at random.

A plain file is read again with ``pread``. A gzip stream cannot be entered in the middle, so
while it is read once the inflater's state is copied every :data:`CHECKPOINT_BYTES` of
output (about 40 KB each); a later read starts from the nearest copy before it instead of the
file's start. Nothing holds the inflated file, so a ``.jsonl.gz`` costs what a ``.jsonl`` does.

A gzip stream may inflate to :func:`inflate_limit` bytes at most, and any file may hold
:data:`MAX_BLANK_LINES` blank lines: past either, it is refused as a likely gzip bomb.
"""

from __future__ import annotations

import bisect
import logging
import os
import zlib
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from ..cassette import CassetteError
from ..formats import MAX_INFLATE_RATIO, MIN_INFLATE_LIMIT, cassette_format

log = logging.getLogger("pytest_eventrecorder")

BLOCK_BYTES = 1 << 20
_READ_BYTES = 64 * 1024
CHECKPOINT_BYTES = 2 << 20
"""Inflated bytes between two copies of a gzip stream's inflater (a page inflates at most
this much before its first line)."""
MIN_INFLATE_BYTES = MIN_INFLATE_LIMIT
"""A ``.jsonl.gz`` may inflate to this many bytes, or to ``MAX_INFLATE_RATIO`` times its size
if more (as the core reader allows one line of it)."""
MAX_BLANK_LINES = 1_000_000
"""Writers never write blank lines; a million of them is a bomb, not a recording."""
_GZIP = 16 + zlib.MAX_WBITS
_CHECKPOINT_COST = 45_000
"""Bytes one copy of an inflater holds: its 32 KiB window and its state."""


def inflate_limit(compressed_size: int) -> int:
    return max(MIN_INFLATE_BYTES, MAX_INFLATE_RATIO * compressed_size)


class LineFile:
    """A ``.jsonl`` (optionally gzipped) file read as blocks of its (inflated) bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gzipped = cassette_format(path)[1]
        self.checkpoints: list[tuple[int, int, Any]] = [(0, 0, zlib.decompressobj(_GZIP))]
        """(inflated offset, offset in the file, inflater state there), by offset."""

    @property
    def nbytes(self) -> int:
        return (len(self.checkpoints) - 1) * _CHECKPOINT_COST  # the first is a fresh inflater

    def blocks(self, *, checkpoints: bool = False) -> Iterator[bytes]:
        """The file's bytes, inflated and checked against the limits; a gzip stream cut
        short (its writer stopped) ends where its data ends."""
        with open(self.path, "rb") as raw:
            if not self.gzipped:
                while block := raw.read(BLOCK_BYTES):
                    yield block
                return
            limit = inflate_limit(os.fstat(raw.fileno()).st_size)
            inflated = 0
            for block in self._inflate(raw, checkpoints):
                inflated += len(block)
                if inflated > limit:
                    raise CassetteError(
                        f"inflates to more than {limit:,} bytes ({MAX_INFLATE_RATIO}x its "
                        "size): refused as a likely gzip bomb",
                        path=self.path,
                    )
                yield block

    def _inflate(self, raw: BinaryIO, checkpoints: bool) -> Iterator[bytes]:
        inflater = zlib.decompressobj(_GZIP)
        fed = inflated = 0  # compressed bytes the inflater took; bytes it gave
        due = CHECKPOINT_BYTES
        data = b""
        while data or (data := raw.read(_READ_BYTES)):
            if inflater.eof:  # the next member of a multi-member gzip file
                inflater = zlib.decompressobj(_GZIP)
            out = self.feed(inflater, data)
            rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
            fed += len(data) - len(rest)
            data = rest
            inflated += len(out)
            if out:
                yield out
            if checkpoints and inflated >= due and not inflater.eof:
                # The copy keeps its unconsumed input: a reader resumes past that.
                self.checkpoints.append((inflated, fed + len(data), inflater.copy()))
                due = inflated + CHECKPOINT_BYTES
        if fed and not inflater.eof:
            log.warning("%s: the gzip stream ends early (the writer stopped)", self.path)

    def feed(self, inflater: Any, data: bytes) -> bytes:
        """At most a block inflated from ``data``: one call never inflates a bomb whole."""
        try:
            out: bytes = inflater.decompress(data, BLOCK_BYTES)
        except zlib.error as exc:
            raise CassetteError(f"not a readable gzip file ({exc})", path=self.path) from None
        return out

    def reader(self) -> LineReader:
        """Random access to the bytes read by :meth:`blocks` (close it after use)."""
        return GzipReader(self) if self.gzipped else PlainReader(self.path)


class LineReader:
    def read(self, start: int, length: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PlainReader(LineReader):
    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def read(self, start: int, length: int) -> bytes:
        return os.pread(self._fd, length, start)

    def close(self) -> None:
        os.close(self._fd)


class GzipReader(LineReader):
    """Reads forward from the nearest checkpoint; reads in ascending order share the work."""

    def __init__(self, lines: LineFile) -> None:
        self._lines = lines
        self._starts = [c[0] for c in lines.checkpoints]
        self._raw = open(lines.path, "rb")  # noqa: SIM115 - closed by close()
        self._inflater: Any = None
        self._buffer = bytearray()
        self._at = 0  # the inflated offset of _buffer[0]

    def read(self, start: int, length: int) -> bytes:
        nearest = bisect.bisect_right(self._starts, start) - 1
        end_of_buffer = self._at + len(self._buffer)
        if self._inflater is None or start < self._at or self._starts[nearest] > end_of_buffer:
            self._restart(nearest)
        while self._at + len(self._buffer) < start + length:
            self._buffer += self._more()
            self._forget(start)
        return bytes(self._buffer[start - self._at : start - self._at + length])

    def _forget(self, start: int) -> None:
        """Drop the bytes before ``start`` once they are many (reads go forward)."""
        drop = min(start - self._at, len(self._buffer))
        if drop > BLOCK_BYTES:
            del self._buffer[:drop]
            self._at += drop

    def _restart(self, checkpoint: int) -> None:
        inflated, fed, state = self._lines.checkpoints[checkpoint]
        self._inflater, self._buffer, self._at = state.copy(), bytearray(), inflated
        self._raw.seek(fed)

    def _more(self) -> bytes:
        inflater = self._inflater
        while True:
            if inflater.eof:
                data = inflater.unused_data or self._raw.read(_READ_BYTES)
                inflater = self._inflater = zlib.decompressobj(_GZIP)
            else:
                data = inflater.unconsumed_tail or self._raw.read(_READ_BYTES)
            if not data:
                raise CassetteError("changed while being read (it is shorter)")
            out: bytes = self._lines.feed(inflater, data)
            if out:
                return out

    def close(self) -> None:
        self._raw.close()


LineBatch = tuple[int, int, list[bytes], bool]
"""The number of a batch's first line, its offset, the lines (without their newline), and
whether the last one ended with a newline (only the file's last line may not)."""


def line_batches(blocks: Iterator[bytes], size: int) -> Iterator[LineBatch]:
    """The lines of ``blocks`` in batches of at most ``size``."""
    number, position, carry = 1, 0, list[bytes]()
    for block in blocks:
        lines = block.split(b"\n")
        if carry:  # a line running over blocks: joined once, not block by block
            carry.append(lines[0])
            lines[0] = b"".join(carry)
        carry = [lines.pop()]
        for cut in range(0, len(lines), size):
            batch = lines[cut : cut + size]
            yield number, position, batch, True
            number += len(batch)
            position += sum(map(len, batch)) + len(batch)
    tail = b"".join(carry)
    if tail:
        yield number, position, [tail], False


def blank_line_error(path: Path | str, line: int | None) -> CassetteError:
    return CassetteError(
        f"holds more than {MAX_BLANK_LINES:,} blank lines: refused as a likely gzip bomb "
        "(cassette writers never write blank lines)",
        path=path,
        line=line,
    )


RUN_GAP = 64 * 1024
RUN_BYTES = 4 << 20


def runs(indices: Iterable[int], starts: array[int], lengths: array[int]) -> Iterator[list[int]]:
    """The positions in runs whose lines lie close together in the file, each read with one
    call: a page is one ``pread``, not a hundred (each syscall hands the interpreter to
    another request thread, and waits to get it back)."""
    run: list[int] = []
    for i in indices:
        if run:
            first, previous = starts[run[0]], run[-1]
            end = starts[previous] + lengths[previous]
            near = end <= starts[i] <= end + RUN_GAP
            if not near or starts[i] + lengths[i] - first > RUN_BYTES:
                yield run
                run = []
        run.append(i)
    if run:
        yield run
