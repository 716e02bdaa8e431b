"""The dashboard in a real browser: list, recording page, timeline, filters, JSON tree,
saving a subset, replay controls, compare, hostile event data and the token gate."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import TOKEN, Dashboard
from playwright.sync_api import Page, expect
from sample_data import (
    BROKEN,
    EMPTY,
    MODULE_CASSETTE,
    REPLAY,
    SENSOR_KINDS,
    SENSORS,
    TRADING,
    TRADING_RERUN,
    XSS,
    XSS_IMG,
    XSS_SCRIPT,
    XSS_SVG,
)

from pytest_eventrecorder.formats import read_cassette

Shot = Callable[..., None]
pytestmark = pytest.mark.browser


def open_recording(page: Page, dashboard: Dashboard, filename: str) -> None:
    page.goto(f"{dashboard.url}/recording/{filename}")
    expect(page.locator("#events tbody tr").first).to_be_visible()


def forgive(page: Page, expected: str) -> None:
    """Drop the console errors a test provoked on purpose (the page fixture fails on others)."""
    problems: list[str] = page.problems  # type: ignore[attr-defined]
    assert any(expected in p for p in problems), problems
    problems[:] = [p for p in problems if expected not in p]


def settled(page: Page, table: str) -> None:
    """Wait for the table's pending fetch (it is aria-busy while loading)."""
    expect(page.locator(f"{table}[aria-busy]")).to_have_count(0)


def column_numbers(page: Page, column: int) -> list[float]:
    settled(page, "#recordings")
    cells = page.locator(f"#recordings tbody tr:not(.broken) td:nth-child({column})")
    return [float(re.sub(r"[^\d.]", "", text)) for text in cells.all_inner_texts()]


def event_total(page: Page) -> int:
    return int(re.sub(r"\D", "", page.locator("#events-total").inner_text()))


# --------------------------------------------------------------------------- list


def test_list_shows_every_recording_and_broken_files_with_their_error(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    page.goto(dashboard.url + "/")
    rows = page.locator("#recordings tbody tr")
    expect(rows).to_have_count(8)
    expect(page.locator("#recordings-dir")).to_contain_text("8 recordings in")
    broken = page.locator("#recordings tbody tr.broken")
    expect(broken).to_contain_text("broken.json")
    expect(broken.locator(".error-text")).to_contain_text("JSON")
    trading = page.locator(f'tr[data-filename="{TRADING}"]')
    expect(trading).to_contain_text("bull_run_2025")
    expect(trading).to_contain_text("2025-10-17 10:00 UTC")  # whatever the browser's zone
    shot(page, "list_light", full_page=True)


def test_a_cassette_in_a_sub_folder_is_listed_and_opens(page: Page, dashboard: Dashboard) -> None:
    """pytest writes cassettes/<module>/<test>.json: the dashboard must show those."""
    page.goto(dashboard.url + "/")
    row = page.locator(f'tr[data-filename="{MODULE_CASSETTE}"]')
    expect(row).to_contain_text(MODULE_CASSETTE)
    row.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/recording/test_bot/test_orders%5BBTC%5D\.json$"))
    expect(page.locator("#events-total")).to_contain_text("2")
    expect(page.locator("#events tbody")).to_contain_text("OrderPlaced")


def test_list_sorts_by_each_column_both_ways(page: Page, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/")
    expect(page.locator("#recordings tbody tr")).to_have_count(8)
    events_header = page.locator('th[data-sort="events"]')
    events_header.locator("button").click()
    expect(events_header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=events&order=desc"))
    counts = column_numbers(page, 3)
    assert counts == sorted(counts, reverse=True)
    assert len(counts) == 7
    events_header.locator("button").click()
    expect(events_header).to_have_attribute("aria-sort", "ascending")
    page.wait_for_function(
        "() => document.querySelector('#recordings tbody tr:not(.broken)')"
        ".dataset.filename === 'empty_session.json'"
    )
    counts = column_numbers(page, 3)
    assert counts == sorted(counts)
    page.locator('th[data-sort="name"] button').click()
    expect(page.locator('th[data-sort="name"]')).to_have_attribute("aria-sort", "ascending")
    expect(events_header).not_to_have_attribute("aria-sort", re.compile(".*"))
    settled(page, "#recordings")
    names = page.locator("#recordings tbody tr .file").all_inner_texts()
    assert names == sorted(names, key=str.casefold)


def test_search_narrows_the_list_and_escape_clears_it(page: Page, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/")
    expect(page.locator("#recordings tbody tr")).to_have_count(8)
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("sensor")
    expect(page.locator("#recordings tbody tr")).to_have_count(1)
    expect(page.locator("#recordings tbody tr")).to_contain_text("sensor_feed.yaml.gz")
    expect(page).to_have_url(re.compile(r"q=sensor"))
    page.locator("#search").fill("no such thing")
    expect(page.locator("#empty")).to_contain_text("No recording matches")
    page.locator("#search").press("Escape")
    expect(page.locator("#recordings tbody tr")).to_have_count(8)


# --------------------------------------------------------------------------- recording page


def test_opening_a_recording_shows_its_summary_and_draws_the_timeline(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    page.goto(dashboard.url + "/")
    page.locator(f'tr[data-filename="{TRADING}"] a').click()
    expect(page).to_have_url(re.compile(f"/recording/{TRADING}$"))
    expect(page.locator("#title")).to_have_text("bull_run_2025")
    expect(page.locator("#meta")).to_contain_text("Events")
    expect(page.locator("#by-name li")).to_have_count(7)
    expect(page.locator("#by-source li")).to_have_count(5)
    expect(page.locator("#by-name li").first).to_contain_text("MarketDataReceived")
    lanes = page.locator("#timeline g.lane")
    expect(lanes).to_have_count(5)
    expect(lanes.first).to_have_attribute("data-lane", "MarketDataAgent")
    ticks = lanes.first.locator("path.ticks").get_attribute("d") or ""
    assert ticks.count("M") > 100
    assert page.locator("#timeline .axis text").count() >= 4
    page.locator('[data-by="event_name"]').click()
    expect(lanes).to_have_count(7)
    expect(page.locator('[data-by="event_name"]')).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(150)  # let the bars settle before the picture
    shot(page, "recording_light")


def test_an_empty_recording_says_so(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/recording/{EMPTY}")
    expect(page.locator("#events-empty")).to_have_text("This recording has no events.")
    expect(page.locator("#events-total")).to_have_text("0 events")
    expect(page.locator("#timeline")).to_contain_text("No events")
    expect(page.locator("#by-name")).to_contain_text("No events")
    expect(page.locator("#page-info")).to_have_text("No events to show")


def test_past_fourteen_lanes_the_quietest_are_drawn_as_one(
    page: Page, dashboard: Dashboard
) -> None:
    open_recording(page, dashboard, SENSORS)
    lanes = page.locator("#timeline g.lane")
    expect(lanes).to_have_count(3)
    page.locator('[data-by="event_name"]').click()
    expect(lanes).to_have_count(14)
    expect(lanes.last).to_have_attribute("data-lane", f"{SENSOR_KINDS - 13} more")
    expect(lanes.last.locator(".lane-count")).to_have_text(str(4 * (SENSOR_KINDS - 13)))


def test_dragging_across_the_timeline_zooms_and_filters_the_table(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    open_recording(page, dashboard, TRADING)
    expect(page.locator("#events-total")).to_have_text("549 events")
    svg = page.locator("#timeline")
    box = svg.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + 60, steps=6)
    page.mouse.up()
    expect(page.locator("#timeline-range")).to_contain_text("zoomed")
    expect(page.locator("#chips .chip")).to_contain_text("Time")
    expect(page.locator("#zoom-reset")).to_be_enabled()
    page.wait_for_function(
        "() => !/^549 /.test(document.querySelector('#events-total').textContent)"
    )
    zoomed = event_total(page)
    assert 0 < zoomed < 549
    axis = page.locator("#timeline .axis text").all_inner_texts()
    assert not any(label == "0 s" for label in axis)
    shot(page, "timeline_zoomed")
    page.locator("#timeline").focus()
    page.keyboard.press("0")
    expect(page.locator("#events-total")).to_have_text("549 events")
    expect(page.locator("#chips .chip")).to_have_count(0)


def test_table_filters_by_name_source_field_and_free_text(page: Page, dashboard: Dashboard) -> None:
    open_recording(page, dashboard, TRADING)
    page.locator("#f-name").select_option("OrderFilled")
    expect(page.locator("#events-total")).to_have_text("27 events")
    names = page.locator("#events tbody td.ev-name").all_inner_texts()
    assert set(names) == {"OrderFilled"}
    page.locator("#f-clear").click()
    expect(page.locator("#events-total")).to_have_text("549 events")

    page.locator('#by-source button[data-value="RiskManager"]').click()
    expect(page.locator("#events-total")).to_have_text("38 events")
    expect(page.locator("#f-source")).to_have_value("RiskManager")
    page.locator("#f-clear").click()

    page.locator("#f-field").select_option("order.side")
    page.locator("#f-value").fill("buy")
    page.wait_for_function(
        "() => !/^549 /.test(document.querySelector('#events-total').textContent)"
    )
    previews = page.locator("#events tbody td.preview").all_inner_texts()
    assert previews
    assert all('"side":"buy"' in text for text in previews)
    page.locator("#f-clear").click()

    page.locator("#f-q").fill("max_exposure")
    expect(page.locator("#events-total")).to_have_text("11 events")
    expect(page.locator("#chips")).to_contain_text("max_exposure")


def test_filters_live_in_the_address_so_a_reload_keeps_them(
    page: Page, dashboard: Dashboard
) -> None:
    open_recording(page, dashboard, TRADING)
    page.locator("#f-name").select_option("RiskLimitWarning")
    page.locator("#f-q").fill("max_exposure")
    expect(page.locator("#events-total")).to_have_text("11 events")
    expect(page).to_have_url(re.compile(r"event_name=RiskLimitWarning.*q=max_exposure"))
    page.reload()
    expect(page.locator("#events-total")).to_have_text("11 events")
    expect(page.locator("#f-name")).to_have_value("RiskLimitWarning")
    expect(page.locator("#f-q")).to_have_value("max_exposure")
    expect(page.locator("#chips")).to_contain_text("Event: RiskLimitWarning")
    page.locator("#f-clear").click()
    expect(page.locator("#events-total")).to_have_text("549 events")
    assert "event_name" not in page.url


def test_paging_moves_through_the_events(page: Page, dashboard: Dashboard) -> None:
    open_recording(page, dashboard, TRADING)
    expect(page.locator("#page-info")).to_have_text("Showing 1\u201350 of 549")
    page.locator("#page-next").click()
    expect(page.locator("#page-info")).to_have_text("Showing 51\u2013100 of 549")
    expect(page.locator("#events tbody tr").first.locator("td.idx")).to_have_text("50")
    page.locator("#page-size").select_option("250")
    expect(page.locator("#page-info")).to_have_text("Showing 1\u2013250 of 549")
    expect(page.locator("#page-prev")).to_be_disabled()
    page.locator("#page-last").click()
    expect(page.locator("#page-info")).to_have_text("Showing 501\u2013549 of 549")
    expect(page.locator("#page-last")).to_be_disabled()
    expect(page.locator("#page-next")).to_be_disabled()


def test_an_events_data_opens_as_a_collapsible_json_tree(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    open_recording(page, dashboard, TRADING)
    page.locator("#f-name").select_option("OrderPlaced")
    expect(page.locator("#events-total")).to_have_text("27 events")
    first = page.locator("#events tbody tr").first
    first.focus()
    page.keyboard.press("Enter")
    detail = page.locator("#detail")
    expect(detail.locator("h3")).to_have_text("OrderPlaced")
    expect(first).to_have_attribute("aria-selected", "true")
    tree = detail.locator(".json").first
    expect(tree.locator(".k", has_text="order")).to_be_visible()
    expect(tree.locator(".k", has_text="price")).to_be_visible()
    expect(tree.locator(".s", has_text='"auto"')).to_be_visible()
    shot(page.locator("#events-card"), "json_tree")
    detail.get_by_role("button", name="Collapse all").click()
    expect(tree.locator(".k", has_text="price")).to_be_hidden()
    detail.get_by_role("button", name="Expand all").click()
    expect(tree.locator(".k", has_text="price")).to_be_visible()
    first.focus()
    page.keyboard.press("ArrowDown")
    second = page.locator("#events tbody tr").nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(second).to_be_focused()
    expect(page.locator("#timeline line.marker")).to_have_count(1)
    page.keyboard.press("Space")
    expect(second.locator("input[type=checkbox]")).to_be_checked()
    expect(page.locator("#save-what")).to_have_text("1 event selected")
    page.keyboard.press("Space")
    expect(page.locator("#savebar")).to_be_hidden()


def test_selected_events_are_saved_as_a_new_recording(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    open_recording(page, dashboard, TRADING)
    boxes = page.locator("#events tbody input[type=checkbox]")
    for i in (1, 4, 7):
        boxes.nth(i).check()
    expect(page.locator("#savebar")).to_be_visible()
    expect(page.locator("#save-what")).to_have_text("3 events selected")
    expect(page.locator("#select-page")).to_have_js_property("indeterminate", True)
    page.locator("#save-name").fill("three picked")
    shot(page, "save_selection")
    page.locator("#save-button").click()
    toast = page.locator(".toast")
    expect(toast).to_contain_text("Saved 3 events")
    saved = toast.locator("a")
    filename = (saved.inner_text()).removeprefix("Open ")
    path = dashboard.folder / filename
    assert path.exists()
    cassette = read_cassette(path)
    assert cassette.header.session_name == "three picked"
    assert len(cassette.events) == 3
    expect(page.locator("#savebar")).to_be_hidden()
    saved.click()
    expect(page.locator("#title")).to_have_text("three picked")
    expect(page.locator("#events-total")).to_have_text("3 events")


def test_every_matching_event_can_be_selected_across_pages(
    page: Page, dashboard: Dashboard
) -> None:
    open_recording(page, dashboard, TRADING)
    page.locator("#page-size").select_option("25")
    page.locator("#f-source").select_option("MarketDataAgent")
    matching = page.locator("#select-matching")
    expect(matching).to_have_text("Select all 403 matching")
    matching.click()
    expect(page.locator("#save-what")).to_have_text("403 events selected")
    expect(page.locator("#select-page")).to_be_checked()
    page.locator("#page-next").click()
    expect(page.locator("#page-info")).to_have_text("Showing 26\u201350 of 403")
    expect(page.locator("#events tbody input:checked")).to_have_count(25)
    page.locator("#save-clear").click()
    expect(page.locator("#events tbody input:checked")).to_have_count(0)


@pytest.mark.parametrize(
    ("filename", "message"), [("nowhere.json", "nowhere.json"), (BROKEN, "not valid JSON")]
)
def test_a_missing_or_broken_recording_shows_why(
    page: Page, dashboard: Dashboard, filename: str, message: str
) -> None:
    page.goto(f"{dashboard.url}/recording/{filename}")
    expect(page.locator("#error")).to_contain_text(message)
    expect(page.locator("#content")).to_be_hidden()
    forgive(page, "Failed to load resource")


def test_a_zoomed_time_range_is_saved_as_a_new_recording(page: Page, dashboard: Dashboard) -> None:
    open_recording(page, dashboard, TRADING)
    page.locator("#timeline").focus()
    page.keyboard.press("+")
    page.keyboard.press("+")
    expect(page.locator("#save-what")).to_contain_text("Time range")
    page.wait_for_function(
        "() => !/^549 /.test(document.querySelector('#events-total').textContent)"
    )
    in_range = event_total(page)
    page.locator("#save-name").fill("middle half")
    page.locator("#save-button").click()
    expect(page.locator(".toast")).to_contain_text(f"Saved {in_range} events")
    page.goto(dashboard.url + "/?q=middle")
    expect(page.locator("#recordings tbody tr")).to_have_count(1)
    expect(page.locator("#recordings tbody tr td").nth(2)).to_have_text(str(in_range))


# --------------------------------------------------------------------------- replay


def progress_reaches(page: Page, percent: int) -> None:
    page.wait_for_function(
        "n => document.querySelector('#replay-progress').getAttribute('aria-valuenow') >= n",
        arg=percent,
    )


def replay_status(dashboard: Dashboard) -> dict[str, Any]:
    return dashboard.api("/api/replay/status")


def test_replay_controls_start_pause_resume_speed_and_stop(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_recording(page, dashboard, REPLAY)
    panel = page.locator("#replay")
    expect(panel.locator("#replay-mode")).to_have_text("Simulation")
    expect(panel.locator("#replay-status")).to_have_text("Idle")
    page.locator("#replay-start").click()
    expect(panel.locator("#replay-status")).to_have_text("Playing")
    progress = panel.locator("#replay-progress")
    progress_reaches(page, 2)
    expect(panel.locator("#replay-now")).to_contain_text("Tick")
    expect(page.locator("#timeline line.cursor")).to_have_count(1)
    shot(page, "replay_playing")

    page.locator("#replay-pause").click()
    expect(panel.locator("#replay-status")).to_have_text("Paused")
    expect(page.locator("#replay-pause")).to_contain_text("Resume")
    assert replay_status(dashboard)["status"] == "paused"
    paused_at = int(progress.get_attribute("aria-valuenow") or "0")

    page.locator("#replay-pause").click()
    expect(panel.locator("#replay-status")).to_have_text("Playing")
    page.locator("#replay-speed").select_option("5")
    progress_reaches(page, paused_at + 1)
    assert replay_status(dashboard)["speed"] == 5.0

    page.locator("#replay-stop").click()
    expect(panel.locator("#replay-status")).to_have_text("Stopped")
    expect(page.locator("#replay-start")).to_be_enabled()
    expect(page.locator("#replay-stop")).to_be_disabled()
    assert replay_status(dashboard)["status"] == "stopped"
    assert any(url.endswith("/api/replay/stream") for url in requests)
    polls = [url for url in requests if url.endswith("/api/replay/status")]
    assert len(polls) == 1, "progress came from the stream, the status route was read once"


def test_another_recordings_replay_is_not_shown_as_this_ones(
    page: Page, dashboard: Dashboard
) -> None:
    open_recording(page, dashboard, REPLAY)
    page.locator("#replay-speed").select_option("1")
    page.locator("#replay-start").click()
    progress_reaches(page, 1)
    open_recording(page, dashboard, TRADING)
    panel = page.locator("#replay")
    expect(panel.locator("#replay-status")).to_have_text("Busy")
    expect(panel.locator("#replay-now")).to_contain_text(f"Now replaying {REPLAY}")
    expect(panel.locator("#replay-position")).to_have_text("0 / 549 events")
    expect(panel.locator("#replay-start")).to_be_enabled()
    expect(panel.locator("#replay-stop")).to_be_disabled()
    dashboard.api("/api/replay/stop", {})


def test_replay_progress_falls_back_to_polling_without_the_stream(
    page: Page, dashboard: Dashboard
) -> None:
    page.route("**/api/replay/stream", lambda route: route.abort())
    open_recording(page, dashboard, REPLAY)
    page.locator("#replay-speed").select_option("10")
    page.locator("#replay-start").click()
    progress_reaches(page, 10)
    page.locator("#replay-stop").click()
    expect(page.locator("#replay-status")).to_have_text("Stopped")
    forgive(page, "ERR_FAILED")  # the refused stream


# --------------------------------------------------------------------------- compare


def test_compare_shows_the_differences_side_by_side(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    page.goto(f"{dashboard.url}/compare?a={TRADING}&b={TRADING_RERUN}")
    diffs = page.locator("#differences .diff")
    expect(diffs.first).to_be_visible()
    expect(page.locator("#verdict h2")).to_contain_text("differences")
    expect(page.locator("#sides")).to_contain_text("bull_run_2025_rerun")
    changed = page.locator("#differences .diff.changed").first
    expect(changed.locator(".field-diffs")).to_contain_text("event_data.price")
    expect(changed.locator(".diff-cols > div")).to_have_count(2)
    expect(changed.locator("li.changed .k", has_text="price")).to_have_count(2)
    assert page.locator("#differences .diff.missing").count() >= 1
    assert page.locator("#differences .diff.unexpected").count() >= 1
    moved = page.locator("#differences .diff.moved").first
    expect(moved.locator(".badge")).to_have_text("Moved")
    expect(moved.locator(".diff-cols > div")).to_have_count(2)
    expect(page.locator("#verdict")).to_contain_text("1 moved")
    shot(page, "compare")

    page.locator("#ignore").fill("price")
    page.locator("#run-compare").click()
    expect(page).to_have_url(re.compile(r"ignore=price"))
    page.reload()
    expect(page.locator("#ignore")).to_have_value("price")

    page.locator("#ignore").fill("")
    page.locator("#pick-b").select_option(TRADING)
    page.locator("#run-compare").click()
    expect(page.locator("#verdict")).to_contain_text("Identical")
    expect(diffs).to_have_count(0)

    page.locator("#pick-b").select_option(XSS)
    page.locator("#run-compare").click()
    expect(diffs).to_have_count(50)
    expect(page.locator("#differences")).to_contain_text("Showing 50 of")
    page.locator("#more-differences").click()
    expect(diffs).to_have_count(100)


# --------------------------------------------------------------------------- safety


def test_hostile_event_data_is_shown_as_text_and_never_runs(
    page: Page, dashboard: Dashboard, shot: Shot
) -> None:
    page.goto(dashboard.url + "/")
    expect(page.locator(f'tr[data-filename="{XSS}"] a')).to_have_text(XSS_SCRIPT)
    open_recording(page, dashboard, XSS)
    expect(page.locator("#title")).to_have_text(XSS_SCRIPT)
    row = page.locator("#events tbody tr").nth(1)
    expect(row.locator("td.ev-name")).to_have_text(XSS_IMG)
    expect(row.locator("td.source")).to_have_text(XSS_SVG)
    row.click()
    detail = page.locator("#detail")
    expect(detail.locator("h3")).to_have_text(XSS_IMG)
    expect(detail.locator(".json .k", has_text=XSS_SCRIPT)).to_be_visible()
    expect(detail.locator(".json .s", has_text="<svg onload=").first).to_be_visible()
    page.locator("#events tbody tr").nth(2).click()
    expect(detail.locator(".json .s", has_text=XSS_SCRIPT)).to_have_count(1)
    page.locator("#timeline-wrap").hover()
    shot(page, "hostile_data")

    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img").count() == 0
    assert page.locator("[onerror], [onload]").count() == 0
    sources = page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert sources
    assert all(src and src.startswith("/assets/") for src in sources)
    assert XSS_SCRIPT in page.locator("#events").inner_text()


# --------------------------------------------------------------------------- token


@pytest.fixture(scope="module")
def guarded(dashboard: Dashboard) -> Iterator[Dashboard]:
    running = Dashboard(dashboard.folder, token=TOKEN)
    yield running
    running.close()


def test_with_a_token_pages_need_it_and_api_calls_carry_it(
    page: Page, guarded: Dashboard, shot: Shot
) -> None:
    response = page.goto(guarded.url + "/")
    assert response is not None
    assert response.status == 401
    expect(page.locator("h1")).to_have_text("Token required")
    shot(page, "token_required")
    page.goto(f"{guarded.url}/?token=wrong")
    expect(page.locator("h1")).to_have_text("Token required")
    forgive(page, "401 (UNAUTHORIZED)")  # the two refusals above were the point

    page.goto(f"{guarded.url}/?token={TOKEN}")
    expect(page.locator("#recordings tbody tr").first).to_be_visible()
    expect(page.locator('meta[name="eventrecorder-token"]')).to_have_attribute("content", TOKEN)
    page.locator(f'tr[data-filename="{REPLAY}"] a').click()
    expect(page).to_have_url(re.compile(f"token={TOKEN}"))
    expect(page.locator("#title")).to_have_text("replay_demo")
    expect(page.locator("#timeline g.lane")).to_have_count(1)
    page.locator("#replay-start").click()
    expect(page.locator("#replay-status")).to_have_text("Playing")
    progress_reaches(page, 1)
    page.locator("#replay-stop").click()
    expect(page.locator("#replay-status")).to_have_text("Stopped")
    expect(page.locator('a[href^="/compare"]').first).to_have_attribute(
        "href", re.compile(f"token={TOKEN}")
    )


# --------------------------------------------------------------------------- look


def background_luminance(page: Page) -> float:
    rgb = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    red, green, blue = (int(n) / 255 for n in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_dark_mode_follows_the_system_setting(page: Page, dashboard: Dashboard, shot: Shot) -> None:
    open_recording(page, dashboard, TRADING)
    assert background_luminance(page) > 0.8
    page.emulate_media(color_scheme="dark")
    assert background_luminance(page) < 0.1
    page.locator("#events tbody tr").nth(4).click()
    expect(page.locator("#detail .json")).to_be_visible()
    shot(page, "recording_dark")
    page.goto(f"{dashboard.url}/compare?a={TRADING}&b={TRADING_RERUN}")
    expect(page.locator("#differences .diff").first).to_be_visible()
    shot(page, "compare_dark")
    page.goto(dashboard.url + "/")
    expect(page.locator(f'tr[data-filename="{TRADING}"]')).to_be_visible()
    shot(page, "list_dark")


@pytest.mark.parametrize(
    "path", ["/", f"/recording/{TRADING}", f"/compare?a={TRADING}&b={TRADING_RERUN}"]
)
def test_pages_fit_a_phone_screen(page: Page, dashboard: Dashboard, shot: Shot, path: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(dashboard.url + path)
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0
    shot(page, "phone" + re.sub(r"\W+", "_", path.split("?")[0]).rstrip("_"), full_page=True)
