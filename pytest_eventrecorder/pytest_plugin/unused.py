"""Unused cassettes: files in the cassette folders of the collected modules that no collected
test uses. Only what the run could know is judged: nothing when it was narrowed (``-k``,
``-m``, node ids, ``--lf``, deselection), and a deleted module's folder only when the run
collected whole folders. Pending cassettes are never unused (they are listed as pending).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from ..formats import is_cassette_path
from ..pending import find_pending, is_pending
from .lifecycle import RunLog
from .modes import MARKER
from .session import cassette_path, default_cassette_name
from .settings import CASSETTE_FIXTURES, Settings


def note_collected(log: RunLog, settings: Settings, items: Iterable[pytest.Item]) -> None:
    """Which modules were collected, where their cassettes live, and which cassette each
    test that uses one would open (so a skipped test's cassette is not unused)."""
    for item in items:
        module = item.path
        folder = (settings.cassette_dir or module.parent / "cassettes") / module.stem
        log.modules.add(str(module))
        log.cassette_dirs[str(module)] = str(folder)
        predicted = _predicted_path(item, folder)
        if predicted is not None:
            log.any_cassette = True
            log.used.add(str(predicted))


def _predicted_path(item: pytest.Item, folder: Path) -> Path | None:
    """The cassette the test would open by default or by the marker's name (an
    ``event_recorder_config`` name or an overridden folder are known only once it runs)."""
    marks = list(item.iter_markers(name=MARKER))  # closest first
    if not marks and CASSETTE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return None
    names = (m.args[0] if m.args else m.kwargs.get("name") for m in marks)
    name = next((n for n in names if n is not None), None)
    if not isinstance(name, str) or not name.strip():
        cls = getattr(item, "cls", None)
        name = default_cassette_name(item.name, cls.__name__ if cls else None)
    return cassette_path(folder, name)


def find_unused(
    log: RunLog, args: Iterable[Path], ini_dir: Path | None, rootpath: Path
) -> list[Path]:
    """The unused cassettes, sorted (the caller has checked that the run was not narrowed);
    ``args`` are the run's arguments as absolute paths."""
    used = {Path(p) for p in log.used}
    folders = {Path(f) for f in log.cassette_dirs.values()}
    folders |= set(_deleted_module_folders(log, list(args), ini_dir, rootpath))
    return sorted(p for folder in folders for p in _cassettes_in(folder) if p not in used)


def pending_in(log: RunLog) -> list[Path]:
    """The pending cassettes in the collected modules' folders, and those this run wrote."""
    found = {Path(p) for p in log.pending}
    for folder in {Path(f) for f in log.cassette_dirs.values()}:
        found.update(find_pending(folder) if folder.is_dir() else ())
    return sorted(found)


def _cassettes_in(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in folder.rglob("*"):
        hidden = path.name.startswith(".")  # a save's temporary file, or not ours
        if not hidden and path.is_file() and is_cassette_path(path) and not is_pending(path):
            yield path


def _deleted_module_folders(
    log: RunLog, args: list[Path], ini_dir: Path | None, rootpath: Path
) -> Iterator[Path]:
    """Folders of test modules that no longer exist, judged only when the run collected
    whole folders (``cassettes/test_gone/`` beside no ``test_gone.py``). One shared cassette
    folder (the ini option) is judged only when the run collected the whole project."""
    if not args or not all(a.is_dir() for a in args):
        return
    if ini_dir is not None:
        if any(rootpath.is_relative_to(a) for a in args):
            stems = {Path(m).stem for m in log.modules}
            yield from (f for f in _subfolders(ini_dir) if f.name not in stems)
        return
    for tests in {Path(m).parent for m in log.modules}:
        for folder in _subfolders(tests / "cassettes"):
            if not (tests / f"{folder.name}.py").exists():
                yield folder


def _subfolders(root: Path) -> list[Path]:
    return [f for f in root.iterdir() if f.is_dir()] if root.is_dir() else []
