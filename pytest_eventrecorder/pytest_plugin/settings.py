"""The session-wide settings: command-line and ini options, read once, and pytest's header line.

Session-wide state lives in ``config.stash`` (under the keys here), per-test state in
``item.stash``.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from .options import RECORD_MODES, check_speed
from .session import EventCassette

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
