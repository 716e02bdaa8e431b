"""Causes through the API: an input's outputs (events whose ``metadata.caused_by`` is its
index) and an output's cause; a recording without links answers that it has none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dashboard_samples import write
from flask.testing import FlaskClient

from pytest_eventrecorder import RecordedEvent


def linked() -> list[RecordedEvent]:
    """Two inputs (0, 3) and their outputs, plus links that point nowhere sensible."""

    def event(t: float, name: str, cause: Any = None, **meta: Any) -> RecordedEvent:
        metadata = {**meta, **({} if cause is None else {"caused_by": cause})}
        return RecordedEvent(t, name, {"t": t}, "svc", metadata=metadata or None)

    return [
        event(0, "OrderRequested"),
        event(1, "Tick"),
        event(2, "OrderAccepted", 0),
        event(3, "OrderRequested"),
        event(4, "PaymentTaken", 0),
        event(5, "OrderAccepted", 3),
        event(6, "Odd", 99),  # past the end
        event(7, "Odd", True),  # not an index
        event(8, "Odd", 8),  # itself
    ]


def brief(answer: dict[str, Any]) -> tuple[Any, ...]:
    cause = answer["caused_by"]
    return (
        answer["linked"],
        cause and (cause["index"], cause["event_name"], cause["timestamp_offset_ms"]),
        [(e["index"], e["event_name"], e["timestamp_offset_ms"]) for e in answer["effects"]],
        answer["effects_total"],
    )


@pytest.mark.parametrize("filename", ["linked.json", "linked.jsonl"])
def test_an_input_lists_its_outputs_and_an_output_names_its_cause(
    client: FlaskClient, recordings: Path, filename: str
) -> None:
    write(recordings, filename, linked())
    url = f"/api/recording/{filename}/causes?index="
    assert brief(client.get(url + "0").get_json()) == (
        True,
        None,
        [(2, "OrderAccepted", 2), (4, "PaymentTaken", 4)],
        2,
    )
    assert brief(client.get(url + "5").get_json()) == (True, (3, "OrderRequested", 3), [], 0)
    assert brief(client.get(url + "1").get_json()) == (True, None, [], 0)
    for odd in ("6", "7", "8"):
        assert brief(client.get(url + odd).get_json()) == (True, None, [], 0)
    assert client.get(url + "0").get_json()["ignored_links"] == 3


def test_a_recording_without_causes_says_so_and_bad_indices_are_refused(
    client: FlaskClient,
) -> None:
    answer = client.get("/api/recording/session.jsonl/causes?index=0").get_json()
    assert brief(answer) == (False, None, [], 0)
    for bad, words in (("", "required"), ("x", "whole number"), ("10", "from 0 to 9")):
        refused = client.get(f"/api/recording/session.json/causes?index={bad}")
        assert refused.status_code == 400
        assert words in refused.get_json()["error"]
    assert client.get("/api/recording/nope.json/causes?index=0").status_code == 404
