"""``shrink``: the smallest part of a recording that still makes a test fail.

The work happens in one pytest process running the test with the plugin
``pytest_eventrecorder.pytest_plugin.shrinking`` (named on pytest's command line, as any
plugin is; this package does not import the plugin). This command starts it, draws its
progress, and writes the test that replays the result.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypeGuard

import click

from .errors import EXIT_FAILED, CliError
from .inputs import input_path

PLUGIN = "pytest_eventrecorder.pytest_plugin.shrinking"
MARKER = "event_cassette"


@click.command("shrink", short_help="Shrink a recording to the inputs that fail a test.")
@click.argument("recording", metavar="RECORDING")
@click.option("--test", "nodeid", required=True, metavar="NODEID", help="The pytest test to run.")
@click.option(
    "-o",
    "--output",
    default="minimal.json",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The minimal cassette.",
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=2),
    default=500,
    show_default=True,
    help="Time budget: at most this many runs of the test.",
)
@click.option("--force", is_flag=True, help="Write over an existing output or test file.")
@click.pass_context
def shrink(
    ctx: click.Context, recording: str, nodeid: str, output: Path, max_runs: int, force: bool
) -> None:
    """Find, by delta debugging over RECORDING's input events (the test marker's inputs=),
    a smallest subset that still makes the test NODEID fail when replayed into it. Writes
    it as a cassette, and a test beside the original one that replays it through the
    original test's body. The whole recording must make the test fail first.

    \b
    Example:
      eventrecorder shrink recordings/prod.jsonl --test tests/test_orders.py::test_fills \\
          -o tests/cassettes/minimal_fills.json
    """
    source = input_path(recording)
    if output.exists() and not force:
        raise CliError(f"{output}: already exists (use --force to write over it)")
    outcome = _run_pytest(source, nodeid, output, max_runs)
    status = outcome.get("status")
    if status == "passes":
        click.echo(_passes_message(source, nodeid, outcome), err=True)
        ctx.exit(EXIT_FAILED)
    if status != "shrunk":
        raise CliError(_problem(nodeid, outcome))
    if outcome["kept"] == 0:
        click.echo(
            f"{nodeid} fails even when none of the recording's inputs is replayed: its failure "
            "does not come from the recording, so nothing was written.",
            err=True,
        )
        ctx.exit(EXIT_FAILED)
    test_file = _write_test(outcome["test"], output, source, force)
    minimal = "1-minimal" if outcome["minimal"] else "budget spent: smallest found so far"
    click.echo(
        f"kept {outcome['kept']:,} of {outcome['inputs']:,} inputs in {outcome['runs']:,} runs "
        f"({minimal})\nwrote {output} and {test_file}"
    )


def _run_pytest(source: Path, nodeid: str, output: Path, max_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eventrecorder-shrink-") as folder:
        report = Path(folder) / "report.json"
        args = [
            *(sys.executable, "-m", "pytest", nodeid, "-p", PLUGIN, "-q", "--tb=short"),
            *("-p", "no:cacheprovider", *_one_process()),
            *("--event-shrink", str(source.resolve()), "--event-shrink-report", str(report)),
            *("--event-shrink-output", str(output.resolve())),
            *("--event-shrink-max-runs", str(max_runs)),
        ]
        log = Path(folder) / "pytest.log"
        with log.open("w") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
            _draw_progress(process, report.with_suffix(".progress"), max_runs)
        if not report.exists():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise CliError(f"pytest could not run {nodeid} (exit {process.returncode}):\n{tail}")
        outcome: dict[str, Any] = json.loads(report.read_text())
        outcome["log"] = log.read_text(errors="replace")
        return outcome


def _one_process() -> tuple[str, ...]:
    """``-n 0`` when pytest-xdist is installed: an ``addopts = -n auto`` must not spread
    the runs over workers (the plugin reruns the test in its own process)."""
    return ("-n", "0") if importlib.util.find_spec("xdist") is not None else ()


def _draw_progress(process: subprocess.Popen[bytes], progress: Path, max_runs: int) -> None:
    """A bar of runs out of the budget, labelled with the smallest failing subset so far."""
    with click.progressbar(length=max_runs, label="shrinking", file=sys.stderr) as bar:
        shown = 0
        while process.poll() is None:
            time.sleep(0.2)
            runs, smallest = _read_progress(progress)
            if runs > shown:
                bar.label = f"{runs} runs, smallest failing: {smallest} inputs"
                bar.update(runs - shown)
                shown = runs
    click.echo(f"{shown} runs", err=True)


def _read_progress(progress: Path) -> tuple[int, int]:
    try:
        runs, smallest = progress.read_text().split()
        return int(runs), int(smallest)
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return 0, 0


def _passes_message(source: Path, nodeid: str, outcome: dict[str, Any]) -> str:
    if not outcome.get("replayed"):
        return (
            f"{nodeid} passes and replayed nothing: it must use the event_cassette fixture "
            f"or marker, so that {source} can be replayed into it."
        )
    return (
        f"the test passes with the whole recording {source}, so there is nothing to shrink: "
        f"make sure {nodeid} fails when it replays it (its marker's inputs= picks the events "
        "replayed)."
    )


def _problem(nodeid: str, outcome: dict[str, Any]) -> str:
    status = outcome.get("status")
    if status == "not one test":
        found = outcome.get("collected", 0)
        return f"--test {nodeid} must name exactly one test; pytest collected {found}"
    if status == "flaky":
        return f"{nodeid} failed with the whole recording once, then passed: it is flaky"
    return f"{nodeid} uses no event cassette, so the recording cannot be replayed into it"


# --------------------------------------------------------------------------- the test file


def _write_test(test: dict[str, Any], cassette: Path, source: Path, force: bool) -> Path:
    original = Path(test["path"])
    target = original.with_name(f"test_{test['function'].removeprefix('test_')}_minimal.py")
    if target.exists() and not force:
        raise CliError(f"{target}: already exists (use --force to write over it)")
    target.write_text(_test_source(test, original, cassette, source, target))
    return target


def _test_source(
    test: dict[str, Any], original: Path, cassette: Path, source: Path, target: Path
) -> str:
    """The original module's imports and the test function, renamed, with its marker
    naming the minimal cassette (replayed whole, compared with nothing: the test's own
    assertions decide), its other decorators kept."""
    text = original.read_text()
    tree = ast.parse(text)
    function = _find_function(tree, test)
    imports = [
        ast.get_source_segment(text, node) or ""
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    fixtures = [_with_decorators(text, node) for node in tree.body if _is_fixture(node)]
    decorators = [
        "@" + (ast.get_source_segment(text, d) or "")
        for d in function.decorator_list
        if not _is_cassette_marker(d)
    ]
    name = cassette_name(cassette, target)
    lines = text.splitlines()[function.lineno - 1 : function.end_lineno]
    body = "\n".join(lines).replace(f"def {function.name}(", f"def {target.stem}(", 1)
    return "\n".join(
        [
            f'"""The inputs of {source.name} that still fail {test["nodeid"]},',
            f"found by eventrecorder shrink and kept in {cassette.name}, replayed through that",
            "test's body (copied here: edit the original, then shrink again to refresh it).",
            '"""',
            "",
            *(i for i in imports if i != "import pytest"),
            "import pytest",
            *(f"\n\n{fixture}" for fixture in fixtures),
            "",
            "",
            *decorators,
            f"@pytest.mark.{MARKER}({name!r}, record_mode='none')",
            body,
            "",
        ]
    )


def _find_function(
    tree: ast.Module, test: dict[str, Any]
) -> ast.FunctionDef | ast.AsyncFunctionDef:
    if test["class"] is not None:
        raise CliError(
            f"{test['nodeid']}: the minimal cassette is written, but a test is written only "
            "for test functions outside classes"
        )
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == test["function"]
        ):
            return node
    raise CliError(f"{test['path']}: no function {test['function']} at module level")


def _is_fixture(node: ast.stmt) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef]:
    """A fixture defined in the test's module (the copy needs it too)."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute | ast.Name) and "fixture" in ast.unparse(target):
            return True
    return False


def _with_decorators(text: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return "\n".join(text.splitlines()[first - 1 : node.end_lineno])


def _is_cassette_marker(decorator: ast.expr) -> bool:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(node, ast.Attribute) and node.attr == MARKER


def cassette_name(cassette: Path, test_file: Path) -> str:
    """The marker's name for ``cassette``: relative to the test module's cassette folder
    (``<test dir>/cassettes/<module>/``), which the plugin resolves names against."""
    folder = test_file.parent.resolve() / "cassettes" / test_file.stem
    return os.path.relpath(cassette.resolve(), folder)
