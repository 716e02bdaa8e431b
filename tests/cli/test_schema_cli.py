"""``eventrecorder schema``: infer, check and diff, through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from cli_samples import Invoke

from pytest_eventrecorder import Cassette, CassetteHeader, RecordedEvent, write_cassette

pytestmark = pytest.mark.skipif(
    shutil.which("eventrecorder") is None, reason="console script not installed"
)


def production(path: Path, n: int = 3000, *, plant: bool = False) -> Path:
    """A recording with three kinds of traffic; ``plant`` turns one price into text."""
    events = []
    for i in range(n):
        if i % 3 == 0:
            price: object = "101.5" if plant and i == 1500 else 100 + (i % 17) / 4
            data = {"order_id": str(uuid.UUID(int=i)), "side": ("BUY", "SELL")[i % 2]}
            events.append(RecordedEvent(i, "OrderPlaced", {**data, "price": price}, "Orders"))
        elif i % 3 == 1:
            events.append(RecordedEvent(i, "PriceTick", {"symbol": "BTC", "px": i / 3}, "Feed"))
        else:
            events.append(RecordedEvent(i, "Heartbeat", {"n": i}, "Monitor"))
    header = CassetteHeader(session_name="prod", start_time="2026-01-01T00:00:00")
    return write_cassette(path, Cassette(header, tuple(events)))


def eventrecorder(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["eventrecorder", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_schema_round_trips_and_catches_a_planted_type_change(tmp_path: Path) -> None:
    recording = production(tmp_path / "prod.jsonl")
    out = tmp_path / "asyncapi.yaml"
    wrote = eventrecorder("schema", recording, "-o", out)
    assert wrote.returncode == 0, wrote.stderr
    assert "wrote a schema of 3 event names" in wrote.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert doc["channels"]["OrderPlaced"]["x-eventrecorder-sources"] == ["Orders"]

    same = eventrecorder("schema", "--check", out, recording)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "ok, every event matches" in same.stdout

    again = tmp_path / "again.yaml"
    assert eventrecorder("schema", recording, "-o", again).returncode == 0
    assert yaml.safe_load(again.read_text()) == doc

    planted = production(tmp_path / "today.jsonl", plant=True)
    caught = eventrecorder("schema", "--check", out, planted)
    assert caught.returncode == 1
    assert caught.stdout.splitlines() == [
        f"{planted}: event #1500 'OrderPlaced': event_data.price: '101.5' is not of type 'number'"
    ]

    drifted = eventrecorder("schema", "--diff", out, planted)
    assert drifted.returncode == 1
    assert drifted.stdout.splitlines() == [
        "~ OrderPlaced: event_data.price: type number -> number|string"
    ]
    assert eventrecorder("schema", "--diff", out, recording).returncode == 0


def test_json_schema_format_and_stdout(tmp_path: Path) -> None:
    recording = production(tmp_path / "prod.json", n=30)
    shown = eventrecorder("schema", "--format", "jsonschema", recording)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["$schema"].endswith("2020-12/schema")
    out = tmp_path / "events.schema.json"
    assert eventrecorder("schema", "--format", "jsonschema", recording, "-o", out).returncode == 0
    assert eventrecorder("schema", "--check", out, recording).returncode == 0


def test_schema_never_destroys_a_file(cli: Invoke, tmp_path: Path) -> None:
    recording = production(tmp_path / "prod.json", n=30)
    out = tmp_path / "asyncapi.yaml"
    out.write_text("mine\n")
    refused = cli("schema", recording, "-o", out)
    assert refused.exit_code == 2
    assert "exists; pass --force to replace it" in refused.stderr
    assert out.read_text() == "mine\n"
    assert cli("schema", recording, "-o", out, "--force").exit_code == 0
    over_input = cli("schema", recording, "-o", recording, "--force")
    assert over_input.exit_code == 2
    assert "is one of the recordings read" in over_input.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("schema",), "give at least one recording"),
        (("schema", "--diff", "a.yaml", "b.yaml", "c.json"), "--diff takes its two inputs"),
        (("schema", "--check", "missing.yaml", "{rec}"), "missing.yaml: no such file"),
        (("schema", "--check", "{bad}", "{rec}"), "not an AsyncAPI document"),
        (("schema", "{rec}", "-o", "out.txt"), "written as .yaml, .yml or .json"),
    ],
)
def test_schema_errors_name_the_problem(
    cli: Invoke,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    rec = production(tmp_path / "prod.json", n=9)
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: '3.1'\n")
    result = cli(*(a.format(rec=rec, bad=bad) for a in args))
    assert result.exit_code == 2
    assert fragment in result.stderr


def test_checking_without_jsonschema_names_the_extra(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = production(tmp_path / "prod.json", n=9)
    out = tmp_path / "s.yaml"
    assert cli("schema", rec, "-o", out).exit_code == 0
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    result = cli("schema", "--check", out, rec)
    assert result.exit_code == 2
    assert "pip install 'pytest-eventrecorder[schema]'" in result.stderr
