"""The last cassette a test replayed, kept for the next test that replays the same file.

Parametrised tests often share one cassette (``@pytest.mark.event_cassette("orders.json")``);
each used to parse and check it again (1.7 ms at 1,000 events). The file's identity and
state (inode, size, mtime) say whether it is still the one read: a save replaces the file
(a new inode), so a cassette written meanwhile is read again. One entry: at most one
cassette stays in memory beyond its test.

A kept cassette is shared, so it is kept only while no test could have changed it: a test
that was handed its events (``event_cassette.events``), or did not pass (a match hook saw
its data), lets it go.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..cassette import Cassette
from ..formats import read_cassette

Identity = tuple[str, int, int, int, int, int]
"""(path, device, inode, size, mtime in ns, ctime in ns)."""


class LoadedCassette:
    """One session's last replayed cassette (in ``config.stash``)."""

    def __init__(self) -> None:
        self._identity: Identity | None = None
        self._cassette: Cassette | None = None

    def read(self, path: Path) -> Cassette:
        """The cassette at ``path``: the one kept, if the file has not changed since."""
        identity = _identity(path)
        if identity is not None and identity == self._identity:
            assert self._cassette is not None
            return self._cassette
        self.forget()  # first: a failed read keeps nothing
        cassette = read_cassette(path)
        if identity is not None:
            self._identity, self._cassette = identity, cassette
        return cassette

    def release(self, cassette: Cassette | None) -> None:
        """Stop sharing ``cassette``: its test may have changed it."""
        if cassette is not None and cassette is self._cassette:
            self.forget()

    def forget(self) -> None:
        self._identity = self._cassette = None


LOADED = pytest.StashKey[LoadedCassette]()


def loaded(config: pytest.Config) -> LoadedCassette:
    """The session's :class:`LoadedCassette`, made on first use."""
    return config.stash.setdefault(LOADED, LoadedCassette())


def _identity(path: Path) -> Identity | None:
    """``None`` when the file cannot be looked at: reading it then says why."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    # The change time too: a copy that keeps the old modification time (cp --preserve,
    # shutil.copy2) over a file of the same size changes nothing else here.
    return str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns
