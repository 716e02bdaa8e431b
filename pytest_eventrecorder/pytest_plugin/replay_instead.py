"""A session-wide override for tools that drive a test with other events than its cassette's.

``eventrecorder shrink`` runs one test many times, each time with a different subset of a
recording's inputs. A plugin of its own puts a :class:`ReplayInstead` in ``config.stash``;
while it is there, every cassette test replays the events of the file it hands out instead
of its own cassette, compares no outputs (the test's assertions decide) and saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from .options import CassetteOptions, InputSelector
from .session import Mode


@dataclass(frozen=True)
class ReplayInstead:
    cassette_for: Callable[[InputSelector], Path]
    """Given the test's own input selector (its marker's ``inputs=``), the file to replay:
    every event in it is published."""


REPLAY_INSTEAD = pytest.StashKey[ReplayInstead]()


def replay_instead(
    config: pytest.Config, options: CassetteOptions, path: Path, mode: Mode
) -> tuple[CassetteOptions, Path, Mode]:
    """The options, path and mode a cassette opens with: unchanged unless overridden."""
    instead = config.stash.get(REPLAY_INSTEAD, None)
    if instead is None:
        return options, path, mode
    # inputs=None: publish every event of the file (it holds inputs only), verify nothing
    return replace(options, inputs=None), instead.cassette_for(options.input_test()), "replay"
