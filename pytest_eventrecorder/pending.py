"""Pending cassettes: what a replayed test produced when it no longer matched its cassette,
kept beside the recorded one until someone accepts or rejects it.

``tests/cassettes/test_bot/test_buy.json`` has the pending cassette
``tests/cassettes/test_bot/test_buy.pending.json`` (``.pending`` goes before the format's
suffix, so ``x.jsonl.gz`` has ``x.pending.jsonl.gz`` and every reader still knows the format).
A pending cassette is never replayed; git-ignore them with ``*.pending.*``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from .formats import cassette_format, is_cassette_path, iter_events

MARK = ".pending"
GITIGNORE_PATTERN = "*.pending.*"


def _split(path: Path) -> tuple[str, str]:
    """(name without the format suffix, the format suffix): ``("x", ".jsonl.gz")``."""
    _, gz = cassette_format(path)
    suffix = "".join(path.suffixes[-2:] if gz else path.suffixes[-1:])
    return path.name[: len(path.name) - len(suffix)], suffix


def is_pending(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return is_cassette_path(p) and _split(p)[0].endswith(MARK)


def pending_path(recorded: str | os.PathLike[str]) -> Path:
    """Where the pending cassette of ``recorded`` lives."""
    p = Path(recorded)
    stem, suffix = _split(p)
    if stem.endswith(MARK):
        raise ValueError(f"{p} is itself a pending cassette")
    return p.with_name(stem + MARK + suffix)


def recorded_path(pending: str | os.PathLike[str]) -> Path:
    """The cassette a pending one would replace."""
    p = Path(pending)
    stem, suffix = _split(p)
    if not stem.endswith(MARK):
        raise ValueError(f"{p} is not a pending cassette (its name has no {MARK!r})")
    return p.with_name(stem[: -len(MARK)] + suffix)


def find_pending(root: str | os.PathLike[str]) -> Iterator[Path]:
    """Every pending cassette under ``root`` (a folder) or ``root`` itself, sorted."""
    base = Path(root)
    if base.is_file():
        if is_pending(base):
            yield base
        return
    yield from sorted(p for p in base.rglob(f"*{MARK}.*") if p.is_file() and is_pending(p))


def accept(pending: str | os.PathLike[str]) -> Path:
    """Replace the recorded cassette with the pending one, in one atomic rename, once the
    pending one is known to read back whole (a :class:`CassetteError` otherwise: a good
    cassette is never replaced by a broken one)."""
    target = recorded_path(pending)
    for _ in iter_events(pending):
        pass
    os.replace(pending, target)
    return target


def reject(pending: str | os.PathLike[str]) -> None:
    """Throw the pending cassette away; the recorded one stays as it is."""
    recorded_path(pending)  # refuses to delete anything that is not a pending cassette
    Path(pending).unlink()
