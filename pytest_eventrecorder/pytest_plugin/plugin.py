"""pytest plugin entry point (pytest11: ``eventrecorder``): event cassettes for service buses.

Mark a test with ``@pytest.mark.event_cassette(inputs=[...])`` (and use the ``event_cassette``
fixture to replay the inputs): the first run records the bus, later runs replay the recorded
inputs and fail with a diff when the outputs change. Option precedence: command line > marker > the
``event_recorder_config`` fixture > ini options (see :mod:`.options`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..recorder import EventRecorder
from . import hookspecs
from .opening import (
    bus_for,
    cassette_dir,
    missing_message,
    open_cassette,
    options_for,
    path_for,
    shown_path,
)
from .options import MARKER
from .session import CassetteReplay, EventCassette
from .settings import (
    CASSETTE,
    MARKER_HELP,
    PASSED,
    SETTINGS,
    add_options,
    read_settings,
    report_header,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.stash[SETTINGS] = read_settings(config)


def pytest_report_header(config: pytest.Config) -> str:
    return report_header(config.stash[SETTINGS])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """Verify the cassette right after the test body, so a difference fails the test itself."""
    cassette = item.stash.get(CASSETTE, None)
    if cassette is not None and cassette.mode == "missing":
        pytest.fail(missing_message(cassette, item.config.stash[SETTINGS].ci), pytrace=False)
    try:
        result = yield
    except BaseException:
        if cassette is not None and cassette.differences():
            item.add_report_section("call", "event differences", cassette.verify() or "")
        raise
    report = cassette.verify() if cassette is not None else None
    if report is not None:
        pytest.fail(report, pytrace=False)
    item.stash[PASSED] = True
    return result


@pytest.fixture
def event_recorder_config() -> dict[str, Any]:
    """Cassette options for every test in scope (override in a conftest, like vcr_config)."""
    return {}


@pytest.fixture
def event_cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Folder of this module's cassettes: <ini dir or test dir/cassettes>/<module name>."""
    return cassette_dir(request)


@pytest.fixture
def event_cassette(
    request: pytest.FixtureRequest, event_recorder_config: Any, event_cassette_dir: Path
) -> Iterator[EventCassette]:
    """This test's cassette: records its bus, or replays the inputs and verifies the outputs."""
    cassette = open_cassette(request, event_recorder_config, event_cassette_dir)
    request.node.stash[CASSETTE] = cassette
    cassette.start()
    try:
        yield cassette
    finally:
        del request.node.stash[CASSETTE]
        cassette.finish(passed=request.node.stash.get(PASSED, False))


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
    options = options_for(request, event_recorder_config)
    path = path_for(request, options, event_cassette_dir)
    if not path.is_file():
        pytest.fail(
            f"event_replay: no cassette at {shown_path(request.config, path)}. event_replay only "
            "replays a cassette: record one with a test that uses the event_cassette fixture, "
            "then name it here with @pytest.mark.event_cassette('<its cassette name>')",
            pytrace=False,
        )
    bus = bus_for(request, options.bus, "event_replay")
    inputs = None if options.inputs is None else options.input_test()
    replay = CassetteReplay(
        path, bus, speed=options.speed, events_module=options.events_module, inputs=inputs
    )
    replay.capture.start_recording(bus)
    try:
        yield replay
    finally:
        replay.capture.stop_recording()
