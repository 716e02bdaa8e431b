"""The recordings folder as the dashboard sees it: safe names, the cached list, opened indexes.

Every file name from a request goes through :meth:`RecordingStore.resolve`, which only ever
yields a cassette file inside the folder. Each opened file gets an :class:`EventIndex`
(built by :mod:`.index`, queried as in :mod:`.query`), kept while the file's (mtime, size,
inode) stay the same. The errors, queries and index helpers are re-exported from here.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..cassette import Cassette, CassetteError, CassetteHeader, collecting_unknown_fields
from ..formats import cassette_format, write_cassette
from ..pending import is_pending
from .cache import SizedCache
from .diskindex import INDEX_FOLDER, INDEX_MIN_BYTES, IndexFiles
from .errors import BadName, BrokenRecording, NameClash, NotFound, StoreError, public_error
from .index import build_index, collect_paths, read_checked_header, stream_totals
from .query import EventIndex, EventQuery, FileKey, as_text, values_at

__all__ = [
    "BadName",
    "BrokenRecording",
    "EventIndex",
    "EventQuery",
    "NameClash",
    "NotFound",
    "RecordingStore",
    "StoreError",
    "as_text",
    "check_name",
    "collect_paths",
    "safe_stem",
    "suffix_of",
    "values_at",
]

log = logging.getLogger("pytest_eventrecorder")

MAX_NAME_LENGTH = 255
MAX_FOLDER_DEPTH = 4
"""Sub-folders listed below the recordings folder (cassettes/<module>/... needs 1 or 2)."""
_SUFFIX = {"json": ".json", "yaml": ".yaml", "jsonl": ".jsonl"}
_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DOTS = re.compile(r"\.{2,}")


def check_name(filename: object) -> str:
    """``filename`` if it is a plain cassette file name, else :class:`BadName` saying why."""
    if not isinstance(filename, str) or not filename:
        raise BadName("the file name must be a non-empty string")
    problem = _name_problem(filename)
    if problem:
        raise BadName(f"invalid file name {filename!r}: {problem}")
    return filename


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a cassette's path relative to the folder (``sub/x.json`` is one:
    pytest writes cassettes into a folder per test module), or ``None``."""
    if len(name) > MAX_NAME_LENGTH:
        return f"longer than {MAX_NAME_LENGTH} characters"
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        return "contains a control character (NUL, newline, ...)"
    if "\\" in name:
        return "contains a backslash (folders are separated by '/')"
    if unquote(name) != name:
        return "contains a percent-encoded sequence"
    parts = name.split("/")
    if len(parts) > MAX_FOLDER_DEPTH + 1:
        return f"lies more than {MAX_FOLDER_DEPTH} folders deep"
    if any(not part for part in parts):
        return "must be a path relative to the recordings folder (no empty part, no leading '/')"
    if any(part.startswith(".") for part in parts):
        return "names starting with '.' (including '..') are not recordings or their folders"
    if not _has_cassette_suffix(name):
        return "must end in .json, .jsonl, .yaml or .yml (optionally + .gz)"
    return None


def _has_cassette_suffix(name: str) -> bool:
    """:func:`formats.is_cassette_path` without building a ``Path`` (the list calls it a lot)."""
    lowered = name.lower()
    bare = lowered[:-3] if lowered.endswith(".gz") else lowered
    return bare.endswith(_SUFFIXES)


def safe_stem(name: str) -> str:
    """A file-name stem made from free text (a session name): ASCII letters, digits, ``._-``."""
    stem = _DOTS.sub(".", _UNSAFE.sub("_", name)).strip("._-")[:100].rstrip("._-")
    return stem or "recording"


def suffix_of(filename: str) -> str:
    """The canonical suffix for a cassette name's format (``.json``, ``.jsonl.gz``, ...)."""
    fmt, gz = cassette_format(filename)
    return _SUFFIX[fmt] + (".gz" if gz else "")


def _linked_folder(path: Path, folders: int) -> bool:
    """Whether one of the ``folders`` folders holding ``path`` is a symlink."""
    return any(stat.S_ISLNK(os.lstat(parent).st_mode) for parent in path.parents[:folders])


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _file_key(st: os.stat_result) -> FileKey:
    return (st.st_mtime_ns, st.st_size, st.st_ino)


# --------------------------------------------------------------------------- the folder


INDEX_BUDGET = 512 * 1024 * 1024
"""Bytes of opened indexes kept (a 1,000,000-event ``.jsonl`` takes about 60 MB)."""
RESULTS_BUDGET = 128 * 1024 * 1024
"""Bytes of filter results and timelines kept, over all indexes."""


class _Build:
    """One index being built; requests for the same file wait for it, no one else does."""

    def __init__(self, key: FileKey) -> None:
        self.key = key
        self.done = threading.Event()
        self.index: EventIndex | None = None
        self.error: BaseException | None = None


class RecordingStore:
    """Safe, cached access to the cassettes in one folder (thread-safe).

    Opened indexes are kept within ``index_budget`` bytes, filter results and timelines
    within ``results_budget``; the least recently used go first. Each file is indexed by
    one thread at a time, and a request for another file never waits for it.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        index_budget: int = INDEX_BUDGET,
        results_budget: int = RESULTS_BUDGET,
        index_dir: str | os.PathLike[str] | None = None,
        index_min_bytes: int | None = INDEX_MIN_BYTES,
    ) -> None:
        """``index_dir``: where index files go (see :mod:`.diskindex`), by default a hidden
        folder in ``root``; ``index_min_bytes``: the smallest recording given one (``None``:
        no index files)."""
        self.root = Path(root)
        self.index_dir = None if index_dir is None else Path(index_dir)
        self.files = None
        if index_min_bytes is not None:
            chosen = self.index_dir is not None
            folder = self.index_dir if self.index_dir is not None else self.root / INDEX_FOLDER
            self.files = IndexFiles(folder, chosen=chosen, min_bytes=index_min_bytes)
        self._root_real: Path | None = None
        self.indexes = SizedCache[EventIndex](index_budget, keep_oversize=True)
        self.results = SizedCache[object](results_budget)
        self._lock = threading.Lock()
        self._builds: dict[str, _Build] = {}
        self._entries: dict[str, tuple[FileKey, dict[str, Any]]] = {}

    def resolve(self, filename: object) -> Path:
        """The path of an existing recording; never anything outside the folder."""
        return self._locate(check_name(filename))[0]

    def _locate(self, name: str) -> tuple[Path, os.stat_result]:
        """The real path of a recording and its ``stat``. A name without symlinks costs one
        ``lstat`` per part (a syscall lets every other request thread take the interpreter,
        so a busy server pays for each); a symlink is followed and checked in full."""
        root = self._real_root()
        real = root.joinpath(name)
        try:
            st = os.lstat(real)
            linked = stat.S_ISLNK(st.st_mode) or _linked_folder(real, name.count("/"))
        except OSError:
            linked = True  # missing, or not a folder on the way: the full check says which
        if linked:
            real = real.resolve()
            if not real.is_relative_to(root) or real == root:
                raise BadName(f"invalid file name {name!r}: it links outside the recordings folder")
            try:
                st = real.stat()
            except OSError:
                raise NotFound(f"no recording named {name!r}") from None
        if not stat.S_ISREG(st.st_mode):
            raise NotFound(f"no recording named {name!r}")
        return real, st

    def _real_root(self) -> Path:
        root = self._root_real
        if root is None:
            root = self.root.resolve()
            if root.is_dir():  # kept once it exists (a missing folder may come later)
                self._root_real = root
        return root

    # ------------------------------------------------------------------ listing

    def list_recordings(self) -> list[dict[str, Any]]:
        """One entry per cassette in the folder; a broken file carries ``"error"``."""
        if not self.root.is_dir():
            return []
        entries: dict[str, tuple[FileKey, dict[str, Any]]] = {}
        for name, item, st in self._files(self.root, "", 0):
            key = _file_key(st)
            cached = self._entries.get(name)
            if cached is not None and cached[0] == key:
                entries[name] = cached
            elif self._listable(name, item, st):
                entries[name] = (key, self._entry(name, Path(item.path), st))
        self._entries = entries
        return [entry for _, entry in entries.values()]

    def _files(
        self, folder: Path | str, prefix: str, depth: int
    ) -> Iterator[tuple[str, os.DirEntry[str], os.stat_result]]:
        """(relative name, entry, stat) of every file below ``folder``; sub-folders that are
        hidden or symlinks (which could loop or lead out) are not entered."""
        try:
            with os.scandir(folder) as scan:
                items = list(scan)
        except OSError:
            return
        for item in items:
            name = prefix + item.name
            try:
                if item.is_dir(follow_symlinks=False):
                    if depth < MAX_FOLDER_DEPTH and not item.name.startswith("."):
                        yield from self._files(item.path, name + "/", depth + 1)
                    continue
                st = item.stat()
            except OSError:
                continue
            yield name, item, st

    def _listable(self, name: str, item: os.DirEntry[str], st: os.stat_result) -> bool:
        if _name_problem(name) is not None or not stat.S_ISREG(st.st_mode):
            return False
        if not item.is_symlink():
            return True
        try:
            self.resolve(name)
        except StoreError:
            return False
        return True

    def _entry(self, name: str, path: Path, st: os.stat_result) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": name,
            "session_name": None,
            "start_time": None,
            "total_events": None,
            "duration_ms": None,
            "size_bytes": st.st_size,
            "modified": _iso(st.st_mtime),
            "pending": is_pending(name),  # what a failing test produced: reviewed, not replayed
        }
        try:
            with collecting_unknown_fields():  # one odd file must not fail the whole list
                header = self._cached_header(name, _file_key(st)) or read_checked_header(path)
                total, duration = header.total_events, header.duration_ms
                if total == 0 and cassette_format(name)[0] == "jsonl":
                    # A stream cut short never got its final header: count what it holds.
                    total, duration = stream_totals(path, duration)
        except CassetteError as exc:
            entry["error"] = str(public_error(exc, name))
            return entry
        except OSError as exc:
            entry["error"] = f"{name}: cannot read the file ({exc.strerror})"
            return entry
        entry.update(
            session_name=header.session_name,
            start_time=header.start_time,
            total_events=total,
            duration_ms=duration,
        )
        return entry

    def _cached_header(self, name: str, key: FileKey) -> CassetteHeader | None:
        index = self.indexes.get(name, touch=False)
        return index.header if index is not None and index.key == key else None

    # ------------------------------------------------------------------ opening

    def open(self, filename: object) -> EventIndex:
        """The index of a recording, built on first use and rebuilt when the file changes."""
        name = check_name(filename)
        path, st = self._locate(name)
        key = _file_key(st)
        index = self.indexes.get(name)
        if index is not None and index.key == key:
            return index
        with self._lock:
            build = self._builds.get(name)
            mine = build is None or build.key != key
            if mine:
                build = self._builds[name] = _Build(key)
        assert build is not None
        if mine:
            return self._build(name, path, build)
        build.done.wait()
        if build.error is not None:
            raise build.error
        assert build.index is not None
        return build.index

    def _build(self, name: str, path: Path, build: _Build) -> EventIndex:
        try:
            index = build.index = build_index(name, path, build.key, self.results, self.files)
            self.indexes.put(name, index, index.nbytes)
            return index
        except BaseException as exc:
            build.error = exc
            raise
        finally:
            with self._lock:
                if self._builds.get(name) is build:
                    del self._builds[name]
            build.done.set()

    # ------------------------------------------------------------------ writing

    def save_new(self, wanted: str, cassette: Cassette, suffix: str = ".json") -> str:
        """Write a new recording named after ``wanted`` (sanitised); an existing file is never
        replaced: ``name_1``, ``name_2``, ... are tried. Returns the file name used."""
        stem = safe_stem(wanted)
        self.root.mkdir(parents=True, exist_ok=True)
        draft = self.root / f".{stem}.{uuid.uuid4().hex}.draft{suffix}"
        try:
            write_cassette(draft, cassette)
        except ValueError as exc:  # e.g. a number JSON cannot hold: nothing is saved
            draft.unlink(missing_ok=True)
            problem = exc.problem if isinstance(exc, CassetteError) else str(exc)
            raise BrokenRecording(f"cannot save {stem}{suffix}: {problem}") from None
        try:
            for n in range(1000):
                name = f"{stem}{suffix}" if n == 0 else f"{stem}_{n}{suffix}"
                try:
                    os.link(draft, self.root / name)  # fails rather than overwrite
                except FileExistsError:
                    continue
                log.info("Saved %d events to %s", len(cassette.events), self.root / name)
                return name
        finally:
            draft.unlink(missing_ok=True)
        raise NameClash(f"too many recordings are already named {stem}{suffix}")
