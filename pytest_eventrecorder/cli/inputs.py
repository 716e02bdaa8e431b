"""Reading the cassettes a command is given, and picking the events it works on.

A ``.jsonl`` input is streamed, never loaded whole; a quoted glob pattern stands for the
newest file it matches (one input) or every file it matches (``info``, ``validate``).
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import translate
from pathlib import Path
from typing import TypeVar

import click

from ..cassette import CassetteHeader, RecordedEvent
from ..formats import cassette_format, is_cassette_path, iter_events, read_cassette, read_header
from ..query import Query, QueryError, compile_query
from ..replayer import newest_match
from .errors import CliError
from .notes import reading

T = TypeVar("T")
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
"""Files smaller than this finish before a progress bar would be worth drawing."""
WHERE_HELP = "Only events matching EXPR, e.g. 'event_data.price > 100 and source == \"Bot\"'."


@dataclass(frozen=True)
class Input:
    """A cassette opened for reading: its header, and a way to walk its events (again)."""

    path: Path
    header: CassetteHeader
    events: Callable[[], Iterable[RecordedEvent]]
    size: int


def open_input(name: str | Path) -> Input:
    """A ``.jsonl`` cassette is only opened (events are streamed); other formats are loaded."""
    path = input_path(name)
    reading(path)
    fmt, _ = cassette_format(path)
    size = path.stat().st_size
    if fmt == "jsonl":
        return Input(path, read_header(path), lambda: iter_events(path), size)
    cassette = read_cassette(path)
    return Input(path, cassette.header, lambda: cassette.events, size)


def input_path(name: str | Path) -> Path:
    """The file a command reads; a quoted glob pattern picks the newest file it matches, as
    EventReplayer does."""
    path = tidy(Path(name))
    if not path.exists() and glob.has_magic(str(path)):
        try:
            path = newest_match(path)
        except FileNotFoundError:
            raise CliError(f"{shown_path(path)}: no file matches") from None
    if not path.exists():
        raise CliError(f"{shown_path(path)}: no such file")
    if path.is_dir():
        raise CliError(f"{shown_path(path)}: is a folder, not a cassette file")
    return path


def check_output(name: str | Path) -> Path:
    """The cassette to write, checked before anything is read: a file with a known suffix."""
    path = Path(name)
    if path.is_dir():
        raise CliError(f"{shown_path(path)}: is a folder; name the cassette file to write")
    cassette_format(path)
    return path


def check_target(output: Path, *, force: bool, inputs: Sequence[Path]) -> None:
    """Never one of the ``inputs``; an existing file only with ``--force``."""
    for source in inputs:
        refuse_input(output, source)
    refuse_existing(output, force=force)


def refuse_existing(path: Path, *, force: bool) -> None:
    if os.path.lexists(path) and not force:
        raise CliError(f"{shown_path(path)}: already exists; pass --force to replace it")


def refuse_input(output: Path, source: Path) -> None:
    """Even with ``--force``, a command never writes over the file it reads: a filter that
    matches nothing, or one stopped half way, would leave nothing of it."""
    if _same_file(output, source):
        raise CliError(
            f"{shown_path(output)} is also the input: write to another file (and rename it "
            "afterwards if you mean to replace the input)"
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.abspath(a) == os.path.abspath(b)


def shown_path(path: str | Path) -> str:
    """A path as messages show it: ``sub/../x.json`` is ``x.json``."""
    return os.path.normpath(path)


def tidy(path: Path) -> Path:
    """``path`` without ``.``, ``..`` and doubled slashes, when that names the same file (it
    may not, past a symbolic link to a folder); for messages and the files commands read."""
    norm = Path(os.path.normpath(path))
    if norm == path:
        return path
    try:
        return norm if os.path.samefile(norm, path) else path
    except OSError:  # one of the two does not exist
        return path if path.exists() else norm


@contextlib.contextmanager
def progress(items: Iterable[T], source: Input, label: str) -> Iterator[Iterable[T]]:
    """A progress bar on stderr for big files on a terminal; nothing when piped or in CI."""
    if not progress_wanted(source.size):
        yield items
        return
    length = source.header.total_events or None
    with click.progressbar(
        items,
        length=length,
        label=f"{label} {source.path.name}",
        file=sys.stderr,
        update_min_steps=2000,
    ) as bar:
        yield bar


def progress_wanted(size: int) -> bool:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return size >= PROGRESS_MIN_BYTES and not in_ci and sys.stderr.isatty()


def parse_where(ctx: click.Context, param: click.Parameter, value: str | None) -> Query | None:
    """Parse ``--where`` when the option is read, so a typo fails before any file is opened."""
    if value is None:
        return None
    try:
        return compile_query(value)
    except QueryError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def check_millis(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or value < 0):
        raise click.BadParameter(f"{value!r} must be a finite number >= 0", ctx, param)
    return value


def name_matcher(patterns: Sequence[str]) -> Callable[[str | None], bool]:
    """Exact names or glob patterns (``Order*``), compiled into one regular expression."""
    regex = re.compile("|".join(f"(?:{translate(p)})" for p in patterns))
    return lambda name: name is not None and regex.match(name) is not None


def selector(
    events: Sequence[str] = (),
    excluded: Sequence[str] = (),
    sources: Sequence[str] = (),
    where: Query | None = None,
    window: tuple[float, float] = (0.0, math.inf),
) -> Callable[[RecordedEvent], bool]:
    tests: list[Callable[[RecordedEvent], bool]] = []
    if events:
        wanted = name_matcher(events)
        tests.append(lambda e: wanted(e.event_name))
    if excluded:
        unwanted = name_matcher(excluded)
        tests.append(lambda e: not unwanted(e.event_name))
    if sources:
        from_source = name_matcher(sources)
        tests.append(lambda e: from_source(e.source))
    if window != (0.0, math.inf):
        start, end = window
        tests.append(lambda e: start <= e.timestamp_offset_ms < end)
    if where is not None:
        tests.append(where)
    return lambda event: all(test(event) for test in tests)


def matching(names: Sequence[str]) -> list[str]:
    """The names, each quoted glob pattern (the shell did not expand it) replaced by the
    files it matches; a pattern matching nothing stays, to be reported as missing."""
    found: list[str] = []
    for name in names:
        matches = [] if Path(name).exists() else sorted(glob.glob(name))
        found.extend(matches or [name])
    return found


def expand(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = tidy(Path(name))
        if not path.is_dir():
            yield path
            continue
        found = sorted(p for p in path.rglob("*") if p.is_file() and is_cassette_path(p))
        if not found:
            raise CliError(f"{path}: no cassette files in this folder")
        yield from found
