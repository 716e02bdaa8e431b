"""Which cassette a test uses, where it lives, and how it is opened: recorded, replayed,
missing (replay-only mode) or live (recording disabled)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ..cassette import CassetteError
from .fieldmatch import ini_matchers, match_hook
from .loaded import loaded
from .modes import MARKER
from .options import CassetteOptions, Layer, OptionsError, marker_values, merge_options
from .replay_instead import replay_instead
from .session import (
    CassetteReplay,
    EventCassette,
    HookCall,
    Mode,
    cassette_path,
    default_cassette_name,
    rerecord_command,
)
from .settings import INI_BUS, INI_CLOCK, SETTINGS, Settings
from .staleness import stale_mode


def options_for(request: pytest.FixtureRequest, config_fixture: object) -> CassetteOptions:
    """The test's options, merged CLI > marker > config fixture > ini (a clear failure if bad)."""
    settings = request.config.stash[SETTINGS]
    try:
        return merge_options(_layers(request, settings, config_fixture), ci=settings.ci)
    except OptionsError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)  # outside except: no "During handling of..." echo


def _layers(
    request: pytest.FixtureRequest, settings: Settings, config_fixture: object
) -> list[Layer]:
    if not isinstance(config_fixture, Mapping):
        raise OptionsError(
            "the event_recorder_config fixture must return a dict, "
            f"got {type(config_fixture).__name__}"
        )
    ini: dict[str, Any] = {"bus": settings.bus_fixture}
    if settings.ini_record_mode is not None:
        ini["record_mode"] = settings.ini_record_mode
    ini.update(ini_matchers(request.config))
    clock = str(request.config.getini(INI_CLOCK)).strip()
    if clock:
        ini["clock"] = clock
    cli: dict[str, Any] = {}
    if settings.record_mode is not None:
        cli["record_mode"] = settings.record_mode
    if settings.speed is not None:
        cli["speed"] = settings.speed
    return [
        Layer("ini options", ini),
        Layer("event_recorder_config fixture", config_fixture),
        Layer(f"@pytest.mark.{MARKER} on {request.node.nodeid}", marker_values(request.node)),
        Layer("command line", cli),
    ]


def cassette_dir(request: pytest.FixtureRequest) -> Path:
    """``<ini dir or test dir/cassettes>/<test module>``."""
    settings = request.config.stash[SETTINGS]
    base = settings.cassette_dir or request.path.parent / "cassettes"
    return base / request.path.stem


def path_for(request: pytest.FixtureRequest, options: CassetteOptions, folder: Path) -> Path:
    """The explicit cassette name, else one derived from the test's name."""
    cls = request.node.cls if isinstance(request.node, pytest.Function) else None
    name = options.name or default_cassette_name(request.node.name, cls and cls.__name__)
    return cassette_path(Path(folder), name)


def open_cassette(
    request: pytest.FixtureRequest, config_fixture: object, folder: Path
) -> EventCassette:
    """The test's :class:`EventCassette`, its mode chosen from the record mode and the disk."""
    options = options_for(request, config_fixture)
    path = path_for(request, options, folder)
    settings = request.config.stash[SETTINGS]
    mode = stale_mode(request.config, options, path, _mode(settings, options, path))
    options, path, mode = replay_instead(request.config, options, path, mode)
    bus = bus_for(request, options.bus, "event_cassette")
    try:
        return EventCassette(
            options,
            path,
            bus,
            nodeid=request.node.nodeid,
            mode=mode,
            hook=_hook_call(request.node),
            match_hook=match_hook(request.node),
            rerun_id=rerun_id(request.node),
            shown_path=shown_path(request.config, path),
            loaded=loaded(request.config),
        )
    except CassetteError as exc:
        problem = str(exc)
    pytest.fail(
        f"cannot replay the cassette: {problem}\n"
        f"Fix the file, or re-record it with: {rerecord_command(rerun_id(request.node))}",
        pytrace=False,
    )


def open_replay(
    request: pytest.FixtureRequest, config_fixture: object, folder: Path
) -> CassetteReplay:
    """The test's :class:`CassetteReplay`, or a failure when it has no cassette to replay."""
    options = options_for(request, config_fixture)
    path = path_for(request, options, folder)
    if not path.is_file():
        pytest.fail(
            f"event_replay: no cassette at {shown_path(request.config, path)}. event_replay only "
            "replays a cassette: record one with a test that uses the event_cassette fixture, "
            "then name it here with @pytest.mark.event_cassette('<its cassette name>')",
            pytrace=False,
        )
    bus = bus_for(request, options.bus, "event_replay")
    inputs = None if options.inputs is None else options.input_test()
    return CassetteReplay(
        path,
        bus,
        speed=options.speed,
        events_module=options.events_module,
        inputs=inputs,
        redaction=options.redaction(),
        clock=options.clock,
    )


def _mode(settings: Settings, options: CassetteOptions, path: Path) -> Mode:
    if settings.disabled:
        return "live"
    if options.record_mode == "all":
        return "record"
    if path.exists():
        return "replay"
    return "missing" if options.record_mode == "none" else "record"


def missing_message(cassette: EventCassette, ci: bool) -> str:
    """Why a replay-only test cannot run, and the command that records its cassette."""
    why = "CI is set, which makes 'none' the default record mode" if ci else "record mode is 'none'"
    return (
        f"no cassette at {cassette.shown_path} and {why}, so nothing is recorded.\n"
        f"Record it with: {rerecord_command(cassette.rerun_id, 'once')}\n"
        "then commit the cassette file."
    )


def rerun_id(item: pytest.Item) -> str:
    """The node id with its file relative to where pytest was started, ready to paste."""
    file_part, sep, rest = item.nodeid.partition("::")
    start = item.config.invocation_params.dir
    return os.path.relpath(item.config.rootpath / file_part, start) + sep + rest


def shown_path(config: pytest.Config, path: Path) -> str:
    """``path`` relative to where pytest was started when it lies below it."""
    try:
        return str(path.relative_to(config.invocation_params.dir))
    except ValueError:
        return str(path)


def bus_for(request: pytest.FixtureRequest, name: str, user: str) -> object:
    """The test's bus from its fixture, or a failure naming the fixture and how to change it."""
    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError as exc:
        if getattr(exc, "argname", None) != name:
            raise
    pytest.fail(
        f"{user} needs the test's bus from a fixture named {name!r}, and there is none. "
        f"Define a {name!r} fixture, or name yours with @pytest.mark.{MARKER}(bus=...) or "
        f"the ini option {INI_BUS} (default 'service_bus').",
        pytrace=False,
    )


def _hook_call(item: pytest.Item) -> HookCall | None:
    hook = item.config.hook.pytest_eventrecorder_before_record_event
    if not hook.get_hookimpls():
        return None  # nothing to call: skip pluggy's per-event overhead

    def call(event: Any) -> Any:
        return hook(event=event, item=item)

    return call
