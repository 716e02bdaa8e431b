"""Error reporting (one line, exit 2, --debug for the traceback), help texts and the group."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest
from cli_samples import Invoke, one_error_line
from click.testing import CliRunner

from pytest_eventrecorder import __version__
from pytest_eventrecorder.cli import describe_error, inspecting, main, pubsub_tools

COMMANDS = [
    "info",
    "timeline",
    "filter",
    "diff",
    "convert",
    "validate",
    "serve",
    "record",
    "replay",
]


def boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom")


def test_unexpected_errors_are_one_line_with_a_hint(
    cli: Invoke, make_cassette: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inspecting, "_summarize", boom)
    result = cli("info", make_cassette("a.json"))
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "Error: unexpected RuntimeError: boom (run with --debug for the traceback)"
    )


def test_debug_lets_the_traceback_through(
    cli: Invoke, make_cassette: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_cassette("a.json")
    monkeypatch.setattr(inspecting, "open_input", boom)
    with pytest.raises(RuntimeError, match="boom"):
        cli("--debug", "timeline", path)
    with pytest.raises(RuntimeError, match="boom"):
        cli("timeline", path, env={"EVENTRECORDER_DEBUG": "1"})


def test_debug_also_shows_cassette_errors(cli: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        cli("--debug", "timeline", broken)


def test_os_errors_name_the_path(
    cli: Invoke, make_cassette: Callable[..., Path], tmp_path: Path
) -> None:
    src = make_cassette("a.json")
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cli("convert", src, blocker / "out.json")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert str(blocker) in line


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            FileNotFoundError(2, "No such file or directory", "x.json"),
            "x.json: No such file or directory",
        ),
        (OSError(98, "Address already in use"), "Address already in use"),
        (ValueError("x.json: bad"), "x.json: bad"),
        (KeyError("k"), "'k'"),
        (ValueError(), "unexpected ValueError:  (run with --debug for the traceback)"),
    ],
)
def test_describe_error(error: BaseException, text: str) -> None:
    assert describe_error(error) == text


def test_version(cli: Invoke) -> None:
    assert cli("--version").stdout == f"eventrecorder, version {__version__}\n"
    assert cli("-V").exit_code == 0


def test_group_help_lists_the_commands_and_exit_codes(cli: Invoke) -> None:
    result = cli("-h")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert f"  {command} " in result.stdout
    assert "0 success, 1 a check failed" in " ".join(result.stdout.split())


def test_no_command_shows_usage(cli: Invoke) -> None:
    result = cli()
    assert result.exit_code == 2
    assert "Usage:" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(cli: Invoke, command: str) -> None:
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"eventrecorder {command} " in result.stdout


def test_pubsub_tools_help_has_the_seed_example() -> None:
    result = CliRunner().invoke(pubsub_tools, ["--help"])
    assert "pubsub-tools event-recorder --config devtools_config.yaml" in result.stdout
    assert "event-recorder" in result.stdout


def test_unknown_command(cli: Invoke) -> None:
    result = cli("replay-all")
    assert result.exit_code == 2
    assert "No such command 'replay-all'" in result.stderr


def test_library_logs_show_as_lines_and_debug_adds_detail(
    cli: Invoke, make_cassette: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    summarize = inspecting._summarize

    def chatty(source: object) -> object:
        inspecting.log.info("detail")
        inspecting.log.warning("heads up")
        return summarize(source)  # type: ignore[arg-type]

    monkeypatch.setattr(inspecting, "_summarize", chatty)
    handlers, level = list(inspecting.log.handlers), inspecting.log.level
    path = make_cassette("a.json")
    plain = cli("info", path).stderr
    assert "warning: heads up" in plain
    assert "detail" not in plain
    assert "info: detail" in cli("--debug", "info", path).stderr
    assert (inspecting.log.handlers, inspecting.log.level) == (handlers, level)


def test_commands_added_later_are_guarded_by_the_group(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(main.commands, "explode", click.Command("explode", callback=boom))
    result = cli("explode")
    assert result.exit_code == 2
    assert "unexpected RuntimeError: boom" in one_error_line(result)
