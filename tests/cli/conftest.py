"""Fixtures for the command-line tests: sample cassettes on disk and a CliRunner helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_samples import Invoke, sample_cassette
from click.testing import CliRunner, Result

from pytest_eventrecorder import Cassette, write_cassette
from pytest_eventrecorder.cli import main


@pytest.fixture
def make_cassette(tmp_path: Path) -> Callable[..., Path]:
    """Write a cassette (default: the sample) under tmp_path with the given file name."""

    def make(name: str, cassette: Cassette | None = None) -> Path:
        return write_cassette(tmp_path / name, cassette or sample_cassette())

    return make


@pytest.fixture
def cli() -> Invoke:
    """Run ``eventrecorder ARGS...`` in-process; unexpected exceptions fail the test."""
    runner = CliRunner()

    def invoke(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)

    return invoke
