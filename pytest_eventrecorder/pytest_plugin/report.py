"""The end of a run: judge unused and stale cassettes, act on them (``fail``, ``delete``), and
write the "event cassettes summary" section of pytest's terminal summary.

Runs in the process that saw the whole run: the only one without xdist, the controller
with it (after every worker's log has been merged in).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .lifecycle import LIFECYCLE, RUN_LOG, RunLog, narrowed
from .opening import shown_path
from .settings import SETTINGS
from .unused import find_unused, pending_in

VERDICT = pytest.StashKey["Verdict"]()


@dataclass
class Verdict:
    """What the end of the run decided."""

    unused: list[Path] = field(default_factory=list)
    pending: list[Path] = field(default_factory=list)
    """Written by this run, or left by an earlier one in the collected modules' folders."""
    deleted: bool = False
    failures: list[str] = field(default_factory=list)
    """Why the lifecycle options fail the run (one line each)."""


def finish_run(session: pytest.Session) -> None:
    """Judge the run's cassettes, act as the options say, and keep the verdict for the
    summary; an action set to ``fail`` fails a run that would otherwise pass."""
    config = session.config
    log, options = config.stash[RUN_LOG], config.stash[LIFECYCLE]
    if not log.shows or config.option.collectonly:
        return  # --collect-only ran nothing: it cannot tell what is used
    verdict = Verdict(unused=_unused(config, log), pending=pending_in(log))
    if verdict.unused and options.unused == "delete":
        for path in verdict.unused:
            path.unlink(missing_ok=True)
        verdict.deleted = True
    if verdict.unused and options.unused == "fail":
        verdict.failures.append(
            f"{_count(len(verdict.unused), 'unused cassette')} fail the run "
            "(--event-cassettes-unused=fail)"
        )
    if log.stale and options.stale == "fail":
        verdict.failures.append(
            f"{_count(len(log.stale), 'stale cassette')} fail the run "
            "(--event-cassettes-stale=fail)"
        )
    if verdict.failures and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config.stash[VERDICT] = verdict


def _unused(config: pytest.Config, log: RunLog) -> list[Path]:
    if narrowed(config, log) or not log.any_cassette:
        return []
    start = config.invocation_params.dir
    args = [(start / str(a).partition("::")[0]).resolve() for a in config.args]
    ini_dir = config.stash[SETTINGS].cassette_dir
    return find_unused(log, args, ini_dir, config.rootpath)


def summary_lines(config: pytest.Config) -> list[str]:
    """The summary section's lines (empty when no test used a cassette)."""
    verdict = config.stash.get(VERDICT, None)
    if verdict is None:
        return []
    log = config.stash[RUN_LOG]
    verbose = config.get_verbosity() > 0
    return [
        _counts(log, verdict),
        *_files(config, log, verbose),
        *_unused_lines(config, verdict),
        *_pending_lines(config, verdict.pending),
        *_stale_lines(config, log),
        *verdict.failures,
    ]


def _counts(log: RunLog, verdict: Verdict) -> str:
    counts = [
        f"{len(log.recorded)} recorded",
        f"{len(log.replayed)} replayed",
        f"{len(log.appended)} appended",
        f"{len(log.failed)} failed",
        f"{len(verdict.unused)} unused",
    ]
    counts += [f"{len(verdict.pending)} pending"] if verdict.pending else []
    counts += [f"{len(log.stale)} stale"] if log.stale else []
    return ", ".join(counts)


def _files(config: pytest.Config, log: RunLog, verbose: bool) -> list[str]:
    """The new and changed cassette files: each with -v, a count otherwise."""
    new = sorted(p for p, existed in log.recorded.items() if not existed)
    changed = sorted({p for p, existed in log.recorded.items() if existed} | log.appended)
    if verbose:
        return [f"new: {_shown(config, p)}" for p in new] + [
            f"changed: {_shown(config, p)}" for p in changed
        ]
    parts = [f"{len(new)} new"] if new else []
    parts += [f"{len(changed)} changed"] if changed else []
    noun = "file" if len(new) + len(changed) == 1 else "files"
    return [f"{', '.join(parts)} cassette {noun} (-v lists them)"] if parts else []


def _unused_lines(config: pytest.Config, verdict: Verdict) -> list[str]:
    label = "deleted unused" if verdict.deleted else "unused"
    lines = [f"{label}: {_shown(config, p)}" for p in verdict.unused]
    if verdict.unused and config.stash[LIFECYCLE].unused == "warn":
        lines.append("(--event-cassettes-unused=delete removes them)")
    return lines


def _pending_lines(config: pytest.Config, pending: list[Path]) -> list[str]:
    if not pending:
        return []
    shown = [_shown(config, p) for p in pending]
    return [f"pending: {p}" for p in shown] + [
        f"review them with: eventrecorder review {where}" for where in _review_roots(shown)
    ]


def _review_roots(shown: list[str]) -> list[str]:
    """One folder to review for relative and one for absolute paths (commonpath refuses to
    mix them: a cassette named outside the project is shown absolute)."""
    roots = []
    relative = [s for s in shown if not os.path.isabs(s)]
    for group in (relative, [s for s in shown if os.path.isabs(s)]):
        if group:
            roots.append(group[0] if len(group) == 1 else os.path.commonpath(group) or ".")
    return roots


def _stale_lines(config: pytest.Config, log: RunLog) -> list[str]:
    lines = [f"stale: {_shown(config, p)} ({why})" for p, why in sorted(log.stale.items())]
    lines += [f"re-recorded stale: {_shown(config, p)}" for p in sorted(log.rerecorded_stale)]
    if log.stale and config.stash[LIFECYCLE].stale == "warn":
        lines.append("(--event-cassettes-stale=rerecord records them again)")
    return lines


def _shown(config: pytest.Config, path: str | Path) -> str:
    return shown_path(config, Path(path))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
