"""A recording's inferred schema on its page, in a real browser: a table of fields per event
name, the AsyncAPI document to download, and hostile names shown as text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import TOKEN, Dashboard
from playwright.sync_api import Page, expect
from sample_data import TRADING, XSS, XSS_IMG, XSS_SCRIPT

Shot = Callable[..., None]
pytestmark = pytest.mark.browser


def open_schema(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#events tbody tr").first).to_be_visible()
    page.locator("#schema-card summary").click()


def test_the_schema_lists_fields_per_event_name_and_downloads_as_asyncapi(
    page: Page, dashboard: Dashboard, shot: Shot, tmp_path: Path
) -> None:
    open_schema(page, f"{dashboard.url}/recording/{TRADING}")
    market = page.locator('.schema-name[data-name="MarketDataReceived"]')
    expect(market.locator("h3")).to_contain_text("MarketDataReceived")
    symbol = market.locator('tr[data-path="symbol"]')
    expect(symbol.locator("td.types")).to_have_text("string")
    expect(symbol.locator("td.presence")).to_have_text("required")
    expect(symbol.locator("td.values")).to_have_text('one of "BTC/USDT", "ETH/USDT", "SOL/USDT"')
    expect(market.locator('tr[data-path="book.bid"] td.types')).to_have_text("number")
    expect(market.locator('tr[data-path="book.bid"] td.values')).to_contain_text("\u2013")
    assert page.locator("#schema .schema-name").count() >= 5
    shot(page.locator("#schema-card"), "schema")

    with page.expect_download() as download:
        page.locator("#schema-download").click()
    saved = tmp_path / "doc.json"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "trading_session.asyncapi.json"
    doc = json.loads(saved.read_text())
    assert doc["asyncapi"] == "3.0.0"
    assert "MarketDataReceived" in doc["components"]["messages"]


def test_hostile_names_and_keys_are_text_also_with_a_token(
    page: Page, dashboard: Dashboard
) -> None:
    guarded = Dashboard(dashboard.folder, token=TOKEN)
    try:
        open_schema(page, f"{guarded.url}/recording/{XSS}?token={TOKEN}")
        expect(page.locator(".schema-name h3", has_text=XSS_IMG)).to_have_count(1)
        quoted = json.dumps(XSS_SCRIPT)  # a key that is no plain name is quoted in a path
        expect(page.locator("#schema td.path", has_text=quoted).first).to_be_visible()
        with page.expect_download() as download:
            page.locator("#schema-download").click()
        assert download.value.failure() is None
    finally:
        guarded.close()
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img").count() == 0
