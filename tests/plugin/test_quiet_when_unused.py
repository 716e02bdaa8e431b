"""The plugin loads in every pytest session of an environment: a session that uses no
cassette pays for no cassette code and prints nothing; the package imports lazily."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from plugin_e2e import BOT_TEST, Runner, write_test

import pytest_eventrecorder

HEAVY = ("yaml", "asyncio", "flask", "click", "pytest_eventrecorder.formats")
MACHINERY = (
    "pytest_eventrecorder.pytest_plugin.session",
    "pytest_eventrecorder.pytest_plugin.opening",
    "pytest_eventrecorder.formats",
    "pytest_eventrecorder.adapters",
    "pytest_eventrecorder.recorder",
)
PLAIN_TEST = """
    import sys

    def test_plain():
        assert 1 + 1 == 2
"""
LOADED_REPORT = """
    import sys

    def pytest_sessionfinish(session):
        loaded = [m for m in {machinery!r} if m in sys.modules]
        (session.config.rootpath / "loaded.txt").write_text(" ".join(loaded))
"""


def imported_by(statement: str) -> set[str]:
    """The modules in sys.modules after ``statement`` in a fresh interpreter."""
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_plugin_loads_no_cassette_machinery() -> None:
    loaded = imported_by("import pytest_eventrecorder.pytest_plugin.plugin")
    assert [m for m in (*HEAVY, *MACHINERY) if m in loaded] == []


def test_a_session_without_cassettes_runs_no_cassette_code(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent(LOADED_REPORT.format(machinery=MACHINERY)))
    write_test(pytester, PLAIN_TEST)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert (pytester.path / "loaded.txt").read_text() == ""


def test_a_session_without_cassettes_prints_nothing_extra(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    write_test(project, PLAIN_TEST)
    result = run_inprocess()
    result.assert_outcomes(passed=1)
    assert "event cassettes" not in result.stdout.str()


def test_an_option_of_ours_shows_the_header(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, PLAIN_TEST)
    result = run_inprocess("--event-record-mode=none")
    result.stdout.fnmatch_lines(
        ["collected 1 item", "event cassettes: record mode none (--event-record-mode), *"]
    )


@pytest.mark.parametrize(
    ("env", "ini", "line"),
    [
        ({}, "", "record mode once (default)"),
        ({"CI": "true"}, "", "record mode none (CI is set)"),
        ({"CI": "true"}, "event_recorder_record_mode = once", "record mode once (ini option *)"),
    ],
)
def test_a_marked_test_shows_the_mode_and_why(
    project: pytest.Pytester,
    run_inprocess: Runner,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    ini: str,
    line: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    project.makeini(f"[pytest]\nasyncio_default_fixture_loop_scope = function\n{ini}\n")
    write_test(project, BOT_TEST)
    result = run_inprocess()
    result.stdout.fnmatch_lines(["collected 1 item", f"event cassettes: {line}, replay speed *"])


def test_every_public_name_imports_from_the_package() -> None:
    for name in pytest_eventrecorder.__all__:
        assert getattr(pytest_eventrecorder, name) is not None, name
    assert set(pytest_eventrecorder.__all__) <= set(dir(pytest_eventrecorder))


def test_from_import_of_every_public_name_works_in_a_fresh_interpreter() -> None:
    names = ", ".join(n for n in pytest_eventrecorder.__all__ if n != "__version__")
    loaded = imported_by(f"from pytest_eventrecorder import {names}, __version__")
    assert "pytest_eventrecorder.formats" in loaded


def test_importing_the_package_alone_is_light() -> None:
    loaded = imported_by("import pytest_eventrecorder; pytest_eventrecorder.__version__")
    assert [m for m in HEAVY if m in loaded] == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = pytest_eventrecorder.Nope  # type: ignore[attr-defined]
