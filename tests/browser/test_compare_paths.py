"""The compare page ignores fields written as the report prints them, and says when an
ignored field names nothing (a real browser)."""

from __future__ import annotations

import pytest
from conftest import Dashboard
from playwright.sync_api import Page, expect
from sample_data import TRADING, TRADING_RERUN

pytestmark = pytest.mark.browser


def test_an_ignored_reported_path_hides_its_lines_and_a_typo_is_a_note(
    page: Page, dashboard: Dashboard
) -> None:
    page.goto(f"{dashboard.url}/compare?a={TRADING}&b={TRADING_RERUN}")
    lines = page.locator("#differences .field-diffs")
    expect(lines.first).to_contain_text("event_data.price")
    page.locator("#ignore").fill("event_data.price, event_data.pricee")
    page.locator("#run-compare").click()
    expect(page.locator("#verdict .ignore-warning")).to_have_text(
        "Note: ignore_field path 'event_data.pricee' matches no field in any event's data"
    )
    expect(page.locator("#differences")).not_to_contain_text("event_data.price:")
