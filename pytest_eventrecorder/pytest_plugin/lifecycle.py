"""What a run did with its cassettes, kept for the end-of-run summary and the unused check.

Each process keeps one :class:`RunLog` in ``config.stash``: the cassettes its tests recorded,
replayed, appended to, failed, left pending or found stale, every cassette a collected test
uses, and what it collected. Under pytest-xdist each worker hands its log to the controller
through ``config.workeroutput`` (:func:`send_to_controller`), the controller merges them
(:func:`receive_from_worker`) and decides alone: workers never judge or delete anything.

This module loads in every session (the plugin registers its options from here), so it
imports only the standard library and pytest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .session import EventCassette

UNUSED_ACTIONS = ("warn", "fail", "delete")
STALE_ACTIONS = ("warn", "fail", "rerecord")
INI_MAX_AGE = "event_recorder_max_age"
WIRE_KEY = "eventrecorder_runlog"
"""The key of a worker's log in ``workeroutput``."""


@dataclass
class RunLog:
    """One process's view of the run (paths are absolute, as text, to cross process lines)."""

    recorded: dict[str, bool] = field(default_factory=dict)
    """Cassettes written in record mode, and whether each existed before (then it changed)."""
    replayed: set[str] = field(default_factory=set)
    appended: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    stale: dict[str, str] = field(default_factory=dict)
    """Stale cassette -> why (its recording time and the max_age it exceeds)."""
    rerecorded_stale: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    """Every cassette a collected test opened, or would open (a skipped test's counts too)."""
    modules: set[str] = field(default_factory=set)
    """The files of the collected test modules."""
    cassette_dirs: dict[str, str] = field(default_factory=dict)
    """Collected module file -> its cassette folder."""
    deselected: bool = False
    any_cassette: bool = False
    """Whether a collected test uses a cassette (else the run says nothing about them)."""

    def to_wire(self) -> dict[str, Any]:
        """Plain lists and dicts, as xdist's channel carries them."""
        return {
            f.name: sorted(v) if isinstance(v := getattr(self, f.name), set) else v
            for f in fields(self)
        }

    def merge_wire(self, wire: dict[str, Any]) -> None:
        """Add a worker's log (from :meth:`to_wire`) to this one."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), wire.get(f.name)
            if theirs is None:
                continue
            if isinstance(mine, set | dict):
                mine.update(theirs)
            else:
                setattr(self, f.name, mine or bool(theirs))

    @property
    def shows(self) -> bool:
        """Whether the summary shows: some test used a cassette."""
        return bool(self.used or self.recorded or self.failed or self.any_cassette)


@dataclass(frozen=True)
class LifecycleSettings:
    unused: str
    stale: str
    pending: bool
    max_age: float | None
    """Seconds (the ini option); a marker's ``max_age`` beats it."""
    max_age_text: str


RUN_LOG = pytest.StashKey[RunLog]()
LIFECYCLE = pytest.StashKey[LifecycleSettings]()


def add_lifecycle_options(parser: pytest.Parser, group_name: str) -> None:
    group = parser.getgroup(group_name)
    group.addoption(
        "--event-cassettes-unused",
        choices=UNUSED_ACTIONS,
        default="warn",
        help="cassettes no collected test uses (judged only on an unnarrowed run): warn "
        "(default: listed in the summary), fail (the run fails), delete (removed).",
    )
    group.addoption(
        "--event-cassettes-stale",
        choices=STALE_ACTIONS,
        default="warn",
        help="cassettes recorded longer ago than max_age: warn (default: listed in the "
        "summary), fail (the run fails), rerecord (recorded again, as record mode 'all').",
    )
    group.addoption(
        "--event-cassettes-pending",
        choices=("yes", "no"),
        default="yes",
        help="write what a failed replay produced beside its cassette as <name>.pending.<ext>, "
        "for 'eventrecorder review' (default yes, also under --record-mode=none).",
    )
    parser.addini(
        INI_MAX_AGE,
        default="",
        help="flag cassettes recorded longer ago than this (30d, 12h, 90m, 3600s); "
        "the marker's max_age beats it.",
    )


def read_lifecycle(config: pytest.Config) -> LifecycleSettings:
    """The lifecycle options, checked once (a bad ini max_age is a usage error)."""
    from .staleness import parse_max_age

    text = str(config.getini(INI_MAX_AGE)).strip()
    try:
        max_age = parse_max_age(text) if text else None
    except ValueError as exc:
        raise pytest.UsageError(f"ini option {INI_MAX_AGE} = {text!r}: {exc}") from None
    return LifecycleSettings(
        unused=str(config.getoption("event_cassettes_unused")),
        stale=str(config.getoption("event_cassettes_stale")),
        pending=config.getoption("event_cassettes_pending") == "yes",
        max_age=max_age,
        max_age_text=text,
    )


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workeroutput")


def send_to_controller(config: pytest.Config) -> None:
    """In an xdist worker: hand this worker's log to the controller."""
    config.workeroutput[WIRE_KEY] = config.stash[RUN_LOG].to_wire()  # type: ignore[attr-defined]


def receive_from_worker(config: pytest.Config, workeroutput: dict[str, Any]) -> None:
    """On the controller: add a finished worker's log."""
    wire = workeroutput.get(WIRE_KEY)
    if wire is not None:
        config.stash[RUN_LOG].merge_wire(wire)


def narrowed(config: pytest.Config, log: RunLog) -> bool:
    """Whether the run chose among the collected tests (then it judges no cassette unused):
    ``-k``, ``-m``, ``--lf``, ``--deselect``, a node id, or any deselection."""
    option = config.option
    return bool(
        log.deselected
        or getattr(option, "keyword", "")
        or getattr(option, "markexpr", "")
        or getattr(option, "lf", False)
        or getattr(option, "deselect", None)
        or any("::" in str(arg) for arg in config.args)
    )


def note_finished(log: RunLog, cassette: EventCassette, *, passed: bool, existed: bool) -> None:
    """What a test did with its cassette, once it is torn down (and saved, if it passed)."""
    path = str(cassette.path)
    log.used.add(path)
    if cassette.mode == "live":
        return
    if not passed:
        log.failed.add(path)
    elif cassette.mode == "record":
        log.recorded[path] = existed
    elif cassette.mode == "replay":
        (log.appended if cassette.appended else log.replayed).add(path)


class CassetteLifecycle:
    """The session-wide hooks (registered by the plugin at configure time): note what was
    collected, hand a worker's log over, judge and report at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[RUN_LOG] = RunLog()
        config.stash[LIFECYCLE] = read_lifecycle(config)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from .settings import SETTINGS, uses_cassettes

        if uses_cassettes(session.items):
            from .unused import note_collected

            note_collected(self.config.stash[RUN_LOG], self.config.stash[SETTINGS], session.items)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if items:
            self.config.stash[RUN_LOG].deselected = True

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        receive_from_worker(self.config, getattr(node, "workeroutput", {}))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if is_worker(self.config):
            send_to_controller(self.config)
        elif self.config.stash[RUN_LOG].shows:
            from .report import finish_run

            finish_run(session)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.config.stash[RUN_LOG].shows:
            return
        from .report import summary_lines

        lines = summary_lines(self.config)
        if lines:
            terminalreporter.write_sep("=", "event cassettes summary")
            for line in lines:
                terminalreporter.write_line(line)
