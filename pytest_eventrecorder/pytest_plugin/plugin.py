"""pytest plugin entry point (pytest11: ``eventrecorder``): event cassettes for service buses.

Mark a test with ``@pytest.mark.event_cassette(inputs=[...])`` (and use the ``event_cassette``
fixture to replay the inputs): the first run records the bus, later runs replay the recorded
inputs and fail with a diff when the outputs change. Option precedence: command line > marker > the
``event_recorder_config`` fixture > ini options (see :mod:`.options`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import hookspecs
from .coverage_report import add_coverage_options, register_coverage
from .lifecycle import RUN_LOG, CassetteLifecycle, add_lifecycle_options, note_finished
from .modes import MARKER
from .settings import (
    CASSETTE,
    GROUP,
    MARKER_HELP,
    PASSED,
    SETTINGS,
    add_options,
    add_shared_record_mode,
    read_settings,
    report_line,
    uses_cassettes,
)

# This module loads in every pytest session of the environment (a pytest11 entry point):
# it imports only what registering options, markers and fixtures needs. The cassette
# machinery (formats, adapters, engines) is imported inside the fixtures and hooks that
# run once a test uses a cassette, so a session that uses none never loads it.
if TYPE_CHECKING:
    from ..recorder import EventRecorder
    from .session import CassetteReplay, EventCassette


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_coverage_options(parser)
    add_lifecycle_options(parser, GROUP)


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(parser: pytest.Parser) -> Generator[None, None, None]:
    """``--record-mode`` is added once every start-up plugin has added its options."""
    result = yield
    add_shared_record_mode(parser)
    return result


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[SETTINGS] = read_settings(config)
    register_coverage(config)
    config.pluginmanager.register(CassetteLifecycle(config), "eventrecorder-lifecycle")


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """One line after "collected N items", only when the session uses event cassettes."""
    settings = config.stash[SETTINGS]
    if settings.options_given or uses_cassettes(items):
        return [report_line(settings)]
    return []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Verify the cassette right after the test body, so a difference fails the test itself."""
    cassette = item.stash.get(CASSETTE, None)
    if cassette is None:
        return (yield)
    if cassette.mode == "missing":
        from .opening import missing_message

        pytest.fail(missing_message(cassette, item.config.stash[SETTINGS].ci), pytrace=False)
    try:
        result = yield
    except BaseException:
        section = cassette.failure_section()
        if section is not None:
            item.add_report_section("call", *section)
        raise
    report = cassette.verify()
    if report is not None:
        from .pending_run import keep_pending

        pytest.fail(keep_pending(item, cassette, report), pytrace=False)
    item.stash[PASSED] = True
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """Save the cassette once every fixture is torn down, and only if all went well: a test
    reported as an error because a fixture's teardown failed saves nothing."""
    cassette = item.stash.get(CASSETTE, None)
    if cassette is None:
        return (yield)
    del item.stash[CASSETTE]
    log, existed = item.config.stash[RUN_LOG], cassette.path.exists()
    try:
        result = yield
    except BaseException:
        cassette.save(passed=False, why="a fixture's teardown failed")
        note_finished(log, cassette, passed=False, existed=existed)
        raise
    passed = item.stash.get(PASSED, False)
    cassette.save(passed=passed, why="the test did not pass")
    note_finished(log, cassette, passed=passed, existed=existed)
    return result


@pytest.fixture
def event_recorder_config() -> dict[str, Any]:
    """Cassette options for every test in scope (override in a conftest, like vcr_config)."""
    return {}


@pytest.fixture
def event_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Folder of this module's cassettes: <ini dir or test dir/cassettes>/<module name>."""
    from .opening import cassette_dir

    return cassette_dir(request)


@pytest.fixture
def event_cassette(
    request: pytest.FixtureRequest, event_recorder_config: Any, event_cassette_dir: Path
) -> Iterator[EventCassette]:
    """This test's cassette: records its bus, or replays the inputs and verifies the outputs
    (saved, when recording, after the test's teardown if the test passed)."""
    from .opening import open_cassette

    cassette = open_cassette(request, event_recorder_config, event_cassette_dir)
    request.node.stash[CASSETTE] = cassette
    cassette.start()
    try:
        yield cassette
    finally:
        cassette.stop()


@pytest.fixture(autouse=True)
def _event_cassette_for_marker(request: pytest.FixtureRequest) -> None:
    """A marked test gets its cassette even when it asks for no cassette fixture."""
    if request.node.get_closest_marker(MARKER) is None:
        return
    if not {"event_cassette", "event_replay"} & set(request.fixturenames):
        request.getfixturevalue("event_cassette")


@pytest.fixture
def event_recording(event_cassette: EventCassette) -> EventRecorder:
    """The EventRecorder on this test's bus; saved to the test's cassette when recording."""
    return event_cassette.recorder


@pytest.fixture
def event_replay(
    request: pytest.FixtureRequest, event_recorder_config: Any, event_cassette_dir: Path
) -> Iterator[CassetteReplay]:
    """An EventReplayer for this test's cassette, bound to its bus, with assertion helpers."""
    from .opening import open_replay

    replay = open_replay(request, event_recorder_config, event_cassette_dir)
    replay.capture.start_recording(replay.bus)
    try:
        yield replay
    finally:
        replay.capture.stop_recording()
