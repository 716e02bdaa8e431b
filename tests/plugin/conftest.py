"""Fixtures for end-to-end tests: inner pytest sessions (pytester) over a tiny bus and bot."""

from __future__ import annotations

import pytest
from plugin_e2e import QUIET_SUBPROCESS, Runner, inprocess, project_files


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner sessions record by default; tests that need CI=true set it themselves."""
    monkeypatch.delenv("CI", raising=False)
    for name in ("BOT_LIMIT", "BOT_ID_PREFIX", "BOT_HOST", "TRADING_BOT_STRATEGY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder with the bus, the bot and their fixtures."""
    return project_files(pytester)


@pytest.fixture(params=[0, 2], ids=["n0", "n2"])
def run(request: pytest.FixtureRequest, project: pytest.Pytester) -> Runner:
    """Run an inner session in-process (-n 0) or under pytest-xdist with 2 workers (-n 2)."""
    if request.param == 0:
        return inprocess(project)

    def run_xdist(*args: str) -> pytest.RunResult:
        result = project.runpytest_subprocess(*QUIET_SUBPROCESS, "-n", "2", *args)
        result.stdout.fnmatch_lines(["*2 workers *"])
        return result

    return run_xdist


@pytest.fixture
def run_inprocess(project: pytest.Pytester) -> Runner:
    """Run an inner session in this process (fast)."""
    return inprocess(project)
