"""Causes in a real browser: selecting an input highlights its outputs in the table and on
the timeline, selecting an output its cause; a recording without links looks as before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Dashboard
from playwright.sync_api import Page, expect

from pytest_eventrecorder.cassette import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette

Shot = Callable[..., None]
pytestmark = pytest.mark.browser


def event(t: float, name: str, source: str, cause: int | None = None) -> RecordedEvent:
    metadata: Any = None if cause is None else {"caused_by": cause}
    return RecordedEvent(t, name, {"at": t}, source, metadata=metadata)


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder: Path = tmp_path_factory.mktemp("causes")
    events = [
        event(0, "OrderRequested", "client"),
        event(40, "Tick", "clock"),
        event(120, "OrderAccepted", "shop", 0),
        event(300, "OrderRequested", "client"),
        event(520, "PaymentTaken", "bank", 0),
        event(700, "OrderAccepted", "shop", 3),
        event(900, "Tick", "clock"),
    ]
    write_cassette(folder / "linked.json", Cassette.build("linked", events))
    plain = [event(e.timestamp_offset_ms, e.event_name, e.source or "") for e in events]
    write_cassette(folder / "plain.json", Cassette.build("plain", plain))
    running = Dashboard(folder)
    yield running
    running.close()


def rows_marked(page: Page, mark: str) -> list[str]:
    return page.locator(f"#events tbody tr.{mark}").evaluate_all(
        "rows => rows.map(r => r.dataset.index)"
    )


def test_selecting_an_input_highlights_its_outputs_and_an_output_its_cause(
    page: Page, linked: Dashboard, shot: Shot
) -> None:
    page.goto(f"{linked.url}/recording/linked.json")
    rows = page.locator("#events tbody tr")
    expect(rows).to_have_count(7)
    rows.nth(0).click()
    expect(page.locator("#timeline line.effect")).to_have_count(2)
    assert rows_marked(page, "effect") == ["2", "4"]
    assert rows_marked(page, "cause") == []
    expect(page.locator("#detail .causes")).to_contain_text("Caused 2 events")
    expect(page.locator("#detail .causes")).to_contain_text("#4 PaymentTaken")
    shot(page, "causes_input")

    rows.nth(5).click()
    expect(page.locator("#timeline line.cause")).to_have_count(1)
    expect(page.locator("#timeline line.effect")).to_have_count(0)
    assert rows_marked(page, "cause") == ["3"]
    assert rows_marked(page, "effect") == []
    expect(page.locator("#detail .causes")).to_contain_text("Caused by #3 OrderRequested")
    shot(page, "causes_output")

    page.locator("#page-size").select_option("25")  # the table is drawn again: marks stay
    expect(page.locator("#events tbody tr.cause")).to_have_count(1)
    rows.nth(1).click()
    expect(page.locator("#timeline line.cause, #timeline line.effect")).to_have_count(0)
    expect(page.locator("#events tbody tr.cause, #events tbody tr.effect")).to_have_count(0)
    expect(page.locator("#detail .causes")).to_have_count(0)


def test_a_recording_without_causes_shows_none(page: Page, linked: Dashboard) -> None:
    page.goto(f"{linked.url}/recording/plain.json")
    rows = page.locator("#events tbody tr")
    rows.nth(0).click()
    expect(page.locator("#detail h3")).to_have_text("OrderRequested")
    rows.nth(2).click()
    expect(page.locator("#detail h3")).to_have_text("OrderAccepted")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#timeline line.effect, #timeline line.cause")).to_have_count(0)
    expect(page.locator("#events tbody tr.effect, #events tbody tr.cause")).to_have_count(0)
    expect(page.locator("#detail .causes")).to_have_count(0)
