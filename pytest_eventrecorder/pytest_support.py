"""Glue between pytest and the cassette machinery: settings, option layers, the bus fixture.

Kept apart from :mod:`plugin` so the entry-point module stays a short list of hooks and
fixtures. Session-wide state lives in ``config.stash``, per-test state in ``item.stash``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cassette import CassetteError
from .cassette_options import (
    RECORD_MODES,
    CassetteOptions,
    Layer,
    OptionsError,
    check_speed,
    merge_options,
)
from .cassette_session import (
    EventCassette,
    HookCall,
    Mode,
    cassette_path,
    default_cassette_name,
    rerecord_command,
)

MARKER = "event_cassette"
MARKER_HELP = (
    "event_cassette(name=None, *, inputs=None, bus=None, record_mode=None, speed=None, "
    "match_on=None, ordered=True, ignore_fields=(), redact=(), before_record_event=None, "
    "events_module=None): record this test's bus to a cassette, then replay its inputs and "
    "verify its outputs (pytest-eventrecorder)"
)
INI_BUS = "event_recorder_bus_fixture"
INI_DIR = "event_recorder_cassette_dir"
INI_MODE = "event_recorder_record_mode"


@dataclass(frozen=True)
class Settings:
    """The session-wide choices: command line, ini file and environment."""

    record_mode: str | None
    speed: float | None
    disabled: bool
    bus_fixture: str
    cassette_dir: Path | None
    ini_record_mode: str | None
    ci: bool


SETTINGS = pytest.StashKey[Settings]()
CASSETTE = pytest.StashKey[EventCassette]()
PASSED = pytest.StashKey[bool]()


def add_options(parser: pytest.Parser) -> None:
    """Register the command-line and ini options, all under one group."""
    group = parser.getgroup("eventrecorder", "event cassettes (pytest-eventrecorder)")
    group.addoption(
        "--record-mode",
        choices=RECORD_MODES,
        default=None,
        help="once: record a missing cassette, else replay (default; 'none' under CI=true). "
        "none: replay only. new_episodes: replay and append new outputs. all/rewrite: "
        "re-record every cassette.",
    )
    group.addoption(
        "--replay-speed",
        type=_speed_arg,
        default=None,
        metavar="SPEED",
        help="replay speed multiplier: 1 = recorded pace, 'instant' (default) = no waiting.",
    )
    group.addoption(
        "--disable-event-recording",
        action="store_true",
        default=False,
        help="run event_cassette tests live: no recording, replay or verification.",
    )
    parser.addini(
        INI_BUS,
        default="service_bus",
        help="fixture that provides the test's bus (default: service_bus).",
    )
    parser.addini(
        INI_DIR,
        default="",
        help="folder for cassettes, relative to the ini file "
        "(default: cassettes/ next to each test file); one subfolder per test module.",
    )
    parser.addini(INI_MODE, default="", help="default record mode (overridden by --record-mode).")


def _speed_arg(text: str) -> float:
    try:
        return check_speed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def read_settings(config: pytest.Config) -> Settings:
    """Everything session-wide, read once at configure time."""
    ini_dir = str(config.getini(INI_DIR)).strip()
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    ini_mode = str(config.getini(INI_MODE)).strip() or None
    if ini_mode is not None and ini_mode not in RECORD_MODES:
        raise pytest.UsageError(
            f"ini option {INI_MODE} = {ini_mode!r}: must be one of {', '.join(RECORD_MODES)}"
        )
    return Settings(
        record_mode=config.getoption("record_mode"),
        speed=config.getoption("replay_speed"),
        disabled=bool(config.getoption("disable_event_recording")),
        bus_fixture=str(config.getini(INI_BUS)).strip() or "service_bus",
        cassette_dir=(base / ini_dir).resolve() if ini_dir else None,
        ini_record_mode=ini_mode,
        ci=os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"),
    )


def report_header(settings: Settings) -> str:
    """One line for pytest's header."""
    if settings.disabled:
        return "event cassettes: disabled (running live)"
    mode = settings.record_mode or settings.ini_record_mode or ("none" if settings.ci else "once")
    speed = "instant" if settings.speed is None else f"x{settings.speed:g}"
    return f"event cassettes: record mode {mode}, replay speed {speed}"


# --------------------------------------------------------------------------- options


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


def marker_values(item: pytest.Item) -> dict[str, Any]:
    """The event_cassette markers' arguments; the closest marker (function over class) wins."""
    values: dict[str, Any] = {}
    for mark in reversed(list(item.iter_markers(name=MARKER))):
        if len(mark.args) > 1:
            raise OptionsError(
                f"@pytest.mark.{MARKER} on {item.nodeid}: takes at most one positional "
                f"argument (the cassette name), got {mark.args!r}"
            )
        values.update(mark.kwargs)
        if mark.args:
            values["name"] = mark.args[0]
    return values


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


# --------------------------------------------------------------------------- the cassette


def open_cassette(
    request: pytest.FixtureRequest, config_fixture: object, folder: Path
) -> EventCassette:
    """The test's :class:`EventCassette`, its mode chosen from the record mode and the disk."""
    options = options_for(request, config_fixture)
    path = path_for(request, options, folder)
    settings = request.config.stash[SETTINGS]
    mode = _mode(settings, options, path)
    bus = bus_for(request, options.bus, "event_cassette")
    try:
        return EventCassette(
            options,
            path,
            bus,
            nodeid=request.node.nodeid,
            mode=mode,
            hook=_hook_call(request.node),
            rerun_id=rerun_id(request.node),
            shown_path=shown_path(request.config, path),
        )
    except CassetteError as exc:
        problem = str(exc)
    pytest.fail(
        f"cannot replay the cassette: {problem}\n"
        f"Fix the file, or re-record it with: {rerecord_command(rerun_id(request.node))}",
        pytrace=False,
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
