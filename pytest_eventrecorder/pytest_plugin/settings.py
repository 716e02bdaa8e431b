"""The session-wide settings: command-line and ini options, read once, and pytest's header line.

Session-wide state lives in ``config.stash`` (under the keys here), per-test state in
``item.stash``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .modes import CI_RECORD_MODE, DEFAULT_RECORD_MODE, MARKER, RECORD_MODES, check_speed

if TYPE_CHECKING:
    from .session import EventCassette

MARKER_HELP = (
    "event_cassette(name=None, *, inputs=None, bus=None, record_mode=None, speed=None, "
    "match_on=None, ordered=True, ignore_fields=(), redact=(), before_record_event=None, "
    "events_module=None, max_age=None): record this test's bus to a cassette, then replay "
    "its inputs and verify its outputs (pytest-eventrecorder)"
)
GROUP = "eventrecorder"
SHARED_MODE_FLAG = "--record-mode"
OWN_MODE_FLAG = "--event-record-mode"
INI_BUS = "event_recorder_bus_fixture"
INI_DIR = "event_recorder_cassette_dir"
INI_MODE = "event_recorder_record_mode"
INI_MATCHERS = "event_recorder_matchers"
INI_CLOCK = "event_recorder_clock"
CASSETTE_FIXTURES = frozenset({"event_cassette", "event_recording", "event_replay"})


@dataclass(frozen=True)
class Settings:
    """The session-wide choices: command line, ini file and environment."""

    record_mode: str | None
    """The record mode given on the command line (``--event-record-mode``, else the shared
    ``--record-mode``), which beats every other layer."""
    record_mode_flag: str | None
    speed: float | None
    disabled: bool
    bus_fixture: str
    cassette_dir: Path | None
    ini_record_mode: str | None
    ci: bool

    @property
    def options_given(self) -> bool:
        """Whether the command line set anything of ours (then the header line shows)."""
        return self.record_mode is not None or self.speed is not None or self.disabled


SETTINGS = pytest.StashKey[Settings]()
CASSETTE: pytest.StashKey[EventCassette] = pytest.StashKey()
PASSED = pytest.StashKey[bool]()


def add_options(parser: pytest.Parser) -> None:
    """Register the options that are ours alone, all under one group (``--record-mode`` is
    shared with pytest-recording: see :func:`add_shared_record_mode`)."""
    group = parser.getgroup(GROUP, "event cassettes (pytest-eventrecorder)")
    group.addoption(
        OWN_MODE_FLAG,
        dest="event_record_mode",
        choices=RECORD_MODES,
        default=None,
        help="record mode of event cassettes alone (beats --record-mode). once: record a "
        "missing cassette, else replay (default; 'none' under CI=true). none: replay only. "
        "new_episodes: replay and append new outputs. all/rewrite: re-record every cassette.",
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
    parser.addini(
        INI_CLOCK,
        default="",
        help="'recorded': replayed code reads the recording's time (default: the real clock).",
    )
    parser.addini(
        INI_MATCHERS,
        type="linelist",
        default=[],
        help="field matchers, one per line: '<field path> <matcher>(...)', "
        "e.g. 'event_data.price approx(rel=1e-3)' (built-in matchers only).",
    )


def add_shared_record_mode(parser: pytest.Parser) -> None:
    """Register ``--record-mode`` unless another plugin (pytest-recording) already has: then
    its flag, with the same values and meanings, drives our cassettes too.

    Called once every plugin loaded at start-up has registered its options, so the load
    order does not matter: registering it earlier would crash a plugin loaded after us
    (pytest refuses a second ``--record-mode``).
    """
    if _registered(parser, SHARED_MODE_FLAG):
        return
    parser.getgroup(GROUP).addoption(
        SHARED_MODE_FLAG,
        dest="record_mode",
        choices=RECORD_MODES,
        default=None,
        help=f"record mode (shared with pytest-recording when installed); {OWN_MODE_FLAG} "
        "sets event cassettes alone.",
    )


def _registered(parser: pytest.Parser, flag: str) -> bool:
    """Whether a plugin registered ``flag``: pytest has no public question for this, so
    parse the flag alone and see whether the parser knows it."""
    probe = f"{flag}={RECORD_MODES[0]}"
    try:
        _known, unknown = parser.parse_known_and_unknown_args([probe])
    except pytest.UsageError:
        return True  # known, with values of its own
    return probe not in unknown


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
    mode, flag = _command_line_mode(config)
    return Settings(
        record_mode=mode,
        record_mode_flag=flag,
        speed=config.getoption("replay_speed"),
        disabled=bool(config.getoption("disable_event_recording")),
        bus_fixture=str(config.getini(INI_BUS)).strip() or "service_bus",
        cassette_dir=(base / ini_dir).resolve() if ini_dir else None,
        ini_record_mode=ini_mode,
        ci=os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"),
    )


def _command_line_mode(config: pytest.Config) -> tuple[str | None, str | None]:
    """(mode, the flag that set it): ours beats the shared one, which may belong to another
    plugin (so its value is checked here, not by our choices)."""
    own = config.getoption("event_record_mode")
    if own is not None:
        return str(own), OWN_MODE_FLAG
    shared = config.getoption("record_mode", None)
    if shared is None:
        return None, None
    if shared not in RECORD_MODES:
        raise pytest.UsageError(
            f"{SHARED_MODE_FLAG}={shared}: event cassettes take one of "
            f"{', '.join(RECORD_MODES)}; set theirs alone with {OWN_MODE_FLAG}"
        )
    return str(shared), SHARED_MODE_FLAG


def uses_cassettes(items: list[pytest.Item]) -> bool:
    """Whether any of ``items`` is marked or asks for a cassette fixture."""
    return any(
        item.get_closest_marker(MARKER) is not None
        or not CASSETTE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        for item in items
    )


def report_line(settings: Settings) -> str:
    """The header line: the session's record mode and why, and the replay speed."""
    if settings.disabled:
        return "event cassettes: disabled (running live)"
    speed = "instant" if settings.speed is None else f"x{settings.speed:g}"
    return f"event cassettes: record mode {_mode_and_why(settings)}, replay speed {speed}"


def _mode_and_why(settings: Settings) -> str:
    if settings.record_mode is not None:
        return f"{settings.record_mode} ({settings.record_mode_flag})"
    if settings.ini_record_mode is not None:
        return f"{settings.ini_record_mode} (ini option {INI_MODE})"
    if settings.ci:
        return f"{CI_RECORD_MODE} (CI is set)"
    return f"{DEFAULT_RECORD_MODE} (default)"
