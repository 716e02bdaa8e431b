"""The Review page in a real browser: pending cassettes with their differences, accepted or
rejected; the list marks them as pending and their page offers no replay."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import Dashboard
from playwright.sync_api import Page, expect
from sample_data import _rerun, trading_events

from pytest_eventrecorder.cassette import Cassette
from pytest_eventrecorder.formats import read_cassette, write_cassette

Shot = Callable[..., None]
pytestmark = pytest.mark.browser

RECORDED = "test_bot/test_orders.json"
PENDING = "test_bot/test_orders.pending.json"
OTHER = "test_feed.pending.jsonl"


@pytest.fixture
def review(tmp_path: Path) -> Iterator[Dashboard]:
    """A folder holding a recorded cassette with its pending rerun, and a pending new one."""
    events = trading_events(seconds=12)
    write_cassette(tmp_path / RECORDED, Cassette.build("test_orders", events))
    write_cassette(tmp_path / PENDING, Cassette.build("test_orders", _rerun(events)))
    write_cassette(tmp_path / OTHER, Cassette.build("test_feed", events[:5]))
    write_cassette(tmp_path / "plain.json", Cassette.build("plain", events[:3]))
    running = Dashboard(tmp_path)
    yield running
    running.close()


def test_pending_cassettes_are_reviewed_accepted_and_rejected(
    page: Page, review: Dashboard, shot: Shot
) -> None:
    page.goto(review.url + "/")
    row = page.locator(f'tr[data-filename="{PENDING}"]')
    expect(row.locator(".badge.pending")).to_have_text("Pending")
    expect(page.locator('tr[data-filename="plain.json"] .badge.pending')).to_have_count(0)
    shot(page, "review_list")
    row.locator("a.review-link").click()
    expect(page).to_have_url(f"{review.url}/review")

    cards = page.locator("#pending .review-item")
    expect(cards).to_have_count(2)
    changed = page.locator(f'.review-item[data-filename="{PENDING}"]')
    expect(changed.locator(".verdict h2")).to_contain_text("differences")
    expect(changed.locator(".diff.changed").first.locator(".field-diffs")).to_contain_text(
        "event_data.price"
    )
    expect(changed.locator(".diff.missing")).to_have_count(1)
    new = page.locator(f'.review-item[data-filename="{OTHER}"]')
    expect(new).to_contain_text("No recorded cassette yet")
    shot(page, "review", full_page=True)

    changed.locator("button.accept").click()
    expect(changed.locator(".review-done")).to_contain_text("Accepted")
    assert not (review.folder / PENDING).exists()
    assert len(read_cassette(review.folder / RECORDED).events) == len(
        _rerun(trading_events(seconds=12))
    )

    (review.folder / OTHER).unlink()  # gone meanwhile: another tab, or a test run
    new.locator("button.reject").click()
    expect(new.locator(".alert")).to_contain_text("already accepted or rejected")
    page.problems.clear()  # type: ignore[attr-defined]  # the 404 above was the point

    page.reload()
    expect(page.locator("#pending-empty")).to_contain_text("No pending cassettes")


def test_a_pending_cassettes_page_offers_no_replay(
    page: Page, review: Dashboard, shot: Shot
) -> None:
    page.goto(f"{review.url}/recording/{PENDING}")
    expect(page.locator("#events tbody tr").first).to_be_visible()
    expect(page.locator("#replay")).to_have_count(0)
    expect(page.locator("#pending-note a")).to_have_attribute("href", "/review")
    shot(page, "review_recording")
    page.goto(f"{review.url}/recording/{RECORDED}")
    expect(page.locator("#replay-start")).to_be_visible()


def test_the_review_page_and_the_schema_fit_a_phone_screen(
    page: Page, review: Dashboard, shot: Shot
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(review.url + "/review")
    expect(page.locator(".review-item .diff").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
    shot(page, "phone_review", full_page=True)
    page.goto(f"{review.url}/recording/{RECORDED}")
    page.locator("#schema-card summary").click()
    expect(page.locator("#schema .schema-name").first).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
