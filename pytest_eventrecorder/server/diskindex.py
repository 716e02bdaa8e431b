"""Index files: a ``.jsonl`` recording's index kept on disk, so that a restarted dashboard
opens a big recording without reading it again (a 1M-event file: ~60 ms instead of ~1.5 s).

Where: ``<recordings>/.eventrecorder-index/`` (a hidden folder: never listed nor opened as a
recording, and never followed when it is a symlink), or a cache folder the user chose
(``serve --index-dir`` or ``$EVENTRECORDER_INDEX_DIR``). One file per recording of at least
:data:`INDEX_MIN_BYTES`, named by a hash of the recording's name, written to a temporary
file then renamed (a reader sees a whole file or none). Nothing else is ever written.

An index file is used only while it matches its recording: the same name, size and
modification time, and the same bytes at its start, its end and 16 places between. Past
that, it is checked before use: the layout and a CRC-32 of everything (a torn or damaged
file), and every id and position in range (a forged one), so that it can never crash a
request. Whatever fails is ignored, and the recording indexed and written again. An index
is written only if the recording's size, time and inode after reading it are those it had
before: an index of a file changed meanwhile would be of the old content.

Layout (little-endian): ``ERINDEX1``, the description's length (u32), the description (JSON:
names, sources, field paths, counts, the recording's size, time and probe), the columns
(offsets ``d``, name ids ``i``, source ids ``i``, line starts ``q``, line lengths ``q``, one
of each per event), then the CRC-32 (u32) of all that follows the magic.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import struct
import sys
import tempfile
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .query import FileKey

log = logging.getLogger("pytest_eventrecorder")

INDEX_FOLDER = ".eventrecorder-index"
"""The index files' folder inside the recordings folder (when no other folder is chosen)."""
INDEX_MIN_BYTES = 1 << 20
"""Recordings smaller than this get no index file: they are indexed again in a few ms."""
_MAGIC = b"ERINDEX1"
_FORMAT = 1
_ARRAYS: tuple[tuple[str, str], ...] = (
    ("offsets", "d"),
    ("name_ids", "i"),
    ("source_ids", "i"),
    ("starts", "q"),
    ("lengths", "q"),
)
_ROW_BYTES = sum(array(code).itemsize for _, code in _ARRAYS)
_MAX_META = 64 << 20
_PROBE_BYTES = 64 * 1024
_PROBES = 16
_USABLE = sys.byteorder == "little"  # the range checks read the bytes of each number


@dataclass
class StoredLines:
    """A line index as kept on disk: its columns and the lines' places in the file."""

    offsets: array[float]
    name_ids: array[int]
    source_ids: array[int]
    starts: array[int]
    lengths: array[int]
    names: list[str]
    sources: list[str]
    paths: list[str]
    ordered: bool
    name_counts: list[int]
    source_counts: list[int]


class IndexFiles:
    """The index files of one recordings folder, in ``folder``; ``chosen``: a folder the user
    named (followed even when a symlink), else the hidden one inside the recordings."""

    def __init__(self, folder: Path, *, chosen: bool, min_bytes: int = INDEX_MIN_BYTES) -> None:
        self.folder = folder
        self.chosen = chosen
        self.min_bytes = min_bytes

    def wanted(self, size: int) -> bool:
        return _USABLE and size >= self.min_bytes

    def load(self, name: str, path: Path) -> StoredLines | None:
        """The stored index of ``name`` if it matches the file at ``path``, else ``None``."""
        try:
            data = self._read(name, path)
            if data is None:
                return None
            found = _parse(data, name, _fingerprint(path)[0])
        except (OSError, ValueError, RecursionError, MemoryError) as exc:
            log.info("%s: its index file is unusable (%s); indexing it again", name, exc)
            return None
        if found is None:
            log.info("%s: its index file is stale or damaged; indexing it again", name)
        return found

    def _read(self, name: str, path: Path) -> bytes | None:
        if not self._usable_folder():
            return None
        limit = _MAX_META + _ROW_BYTES * (path.stat().st_size // 2) + 64
        fd = os.open(self.folder / _file_name(name), os.O_RDONLY | os.O_NOFOLLOW)
        with open(fd, "rb") as file:
            if os.fstat(file.fileno()).st_size > limit:
                return None
            return file.read()

    def save(self, name: str, path: Path, key: FileKey, stored: StoredLines) -> None:
        """Write ``stored`` as the index of ``name``, if the file is still as indexed (``key``:
        its modification time, size and inode before it was read); an unwritable folder only
        costs the next start its index."""
        try:
            # Written with the file's fingerprint as it is now, which a loader trusts: so
            # the whole key must match, or a rewrite meanwhile (even of the same time) would
            # be served from the old content's index.
            fingerprint, now = _fingerprint(path)
            if now != key or not self._make_folder():
                return
            self._write(name, _encode(name, fingerprint, stored))
        except OSError as exc:
            log.info("%s: no index file written (%s)", name, exc.strerror or exc)

    def _write(self, name: str, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".idx")
        try:
            with open(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, self.folder / _file_name(name))
        except BaseException:
            os.unlink(temporary)
            raise

    def _usable_folder(self) -> bool:
        """Whether the folder exists as a folder; inside the recordings, not as a symlink
        (it could lead anywhere)."""
        try:
            mode = (os.stat if self.chosen else os.lstat)(self.folder).st_mode
        except OSError:
            return False
        return stat.S_ISDIR(mode)

    def _make_folder(self) -> bool:
        if not self._usable_folder():
            self.folder.mkdir(parents=self.chosen, exist_ok=True)
        return self._usable_folder()


def _file_name(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:40] + ".idx"


def _fingerprint(path: Path) -> tuple[dict[str, Any], FileKey]:
    """The size, modification time and a hash of sampled bytes of the file (its first and
    last 64 KiB and 16 blocks between): a rewrite that keeps the size and time shows. Also
    the file's key, from the same look at it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        digest = hashlib.sha256()
        size = st.st_size
        places = {0, max(0, size - _PROBE_BYTES)}
        places.update(size * k // (_PROBES + 1) for k in range(1, _PROBES + 1))
        for place in sorted(places):
            digest.update(os.pread(fd, _PROBE_BYTES, place))
    finally:
        os.close(fd)
    fingerprint = {"size": size, "mtime_ns": st.st_mtime_ns, "probe": digest.hexdigest()}
    return fingerprint, (st.st_mtime_ns, size, st.st_ino)


# --------------------------------------------------------------------------- writing


def _encode(name: str, fingerprint: dict[str, Any], stored: StoredLines) -> bytes:
    meta = {
        "format": _FORMAT,
        "name": name,
        **fingerprint,
        "count": len(stored.offsets),
        "names": stored.names,
        "sources": stored.sources,
        "paths": stored.paths,
        "ordered": stored.ordered,
        "name_counts": stored.name_counts,
        "source_counts": stored.source_counts,
    }
    described = json.dumps(meta, ensure_ascii=True).encode()
    parts = [struct.pack("<I", len(described)), described]
    parts += [getattr(stored, column).tobytes() for column, _ in _ARRAYS]
    body = b"".join(parts)
    return _MAGIC + body + struct.pack("<I", zlib.crc32(body))


# --------------------------------------------------------------------------- reading


def _parse(data: bytes, name: str, fingerprint: dict[str, Any]) -> StoredLines | None:
    if len(data) < len(_MAGIC) + 8 or not data.startswith(_MAGIC):
        return None
    body = memoryview(data)[len(_MAGIC) : -4]
    if struct.unpack("<I", data[-4:])[0] != zlib.crc32(body):
        return None
    (size,) = struct.unpack_from("<I", body)
    meta = json.loads(bytes(body[4 : 4 + size]))
    if not _meta_ok(meta, name, fingerprint, len(body) - 4 - size):
        return None
    columns: dict[str, Column] = {}
    start = len(_MAGIC) + 4 + size
    for column, code in _ARRAYS:
        values = array(code)
        end = start + values.itemsize * meta["count"]
        values.frombytes(body[start - len(_MAGIC) : end - len(_MAGIC)])
        columns[column] = Column(values, data, start, end)
        start = end
    return _checked(meta, columns, fingerprint["size"])


@dataclass
class Column:
    """An array read from an index file, and where its bytes lie in that file's ``data``."""

    values: array[Any]
    data: bytes
    start: int
    end: int

    def byte(self, byte: int) -> bytes:
        """Byte ``byte`` of every number (an extended slice of bytes: C speed, ~2 ms a
        million, where a strided memoryview copies 5x slower)."""
        return self.data[self.start + byte : self.end : self.values.itemsize]


def _meta_ok(meta: Any, name: str, fingerprint: dict[str, Any], column_bytes: int) -> bool:
    """Whether the description is well formed, is ``name``'s as the file is now, and
    accounts for the columns' bytes exactly."""
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or meta.get("name") != name:
        return False
    if any(meta.get(key) != value for key, value in fingerprint.items()):
        return False
    count = meta.get("count")
    if type(count) is not int or count < 0 or count * _ROW_BYTES != column_bytes:
        return False
    texts = (meta.get("names"), meta.get("sources"), meta.get("paths"))
    if not all(_texts(t) for t in texts) or type(meta.get("ordered")) is not bool:
        return False
    return _counts(meta.get("name_counts"), meta["names"], count) and _counts(
        meta.get("source_counts"), meta["sources"], count
    )


def _texts(values: Any) -> bool:
    return (
        isinstance(values, list)
        and all(type(v) is str for v in values)
        and len(set(values)) == len(values)
    )


def _counts(counts: Any, names: list[str], total: int) -> bool:
    return (
        isinstance(counts, list)
        and len(counts) == len(names)
        and all(type(c) is int and c > 0 for c in counts)
        and sum(counts) == total
    )


def _checked(meta: dict[str, Any], columns: dict[str, Column], size: int) -> StoredLines | None:
    """The columns, if every id names a known name or source and every offset and line
    place is a finite, non-negative number that fits the file."""
    names, sources = meta["names"], meta["sources"]
    reach = max(1, size).bit_length()
    if not (
        _ids_below(columns["name_ids"], len(names))
        and _ids_below(columns["source_ids"], len(sources))
        and _bits_below(columns["starts"], reach)
        and _bits_below(columns["lengths"], reach)
        and _finite_not_negative(columns["offsets"])
    ):
        return None
    return StoredLines(
        columns["offsets"].values,
        columns["name_ids"].values,
        columns["source_ids"].values,
        columns["starts"].values,
        columns["lengths"].values,
        names,
        sources,
        meta["paths"],
        meta["ordered"],
        meta["name_counts"],
        meta["source_counts"],
    )


def _bits_below(column: Column, bits: int) -> bool:
    """Whether every value lies in ``[0, 2**bits)``: its higher bytes are zero, and the byte
    holding bit ``bits`` is small enough."""
    values = column.values
    whole, rest = divmod(bits, 8)
    for byte in range(whole + (1 if rest else 0), values.itemsize):
        if column.byte(byte).count(0) != len(values):
            return False
    return not rest or not column.byte(whole).translate(None, bytes(range(1 << rest)))


def _ids_below(column: Column, limit: int) -> bool:
    """Whether every value lies in ``[0, limit)``: exactly by bytes up to 256 names, else by
    the ends (a loop in C)."""
    values = column.values
    if not values:
        return True
    if limit > 256:
        return bool(min(values) >= 0 and max(values) < limit)
    return _bits_below(column, 8) and not column.byte(0).translate(None, bytes(range(limit)))


def _finite_not_negative(column: Column) -> bool:
    """Whether no offset is negative, infinite or NaN: the top byte of each (sign and the
    exponent's high bits) is below 0x7F (a float of 2**1009 or more is refused too)."""
    return not column.byte(7).translate(None, bytes(range(0x7F)))
