"""The recording page at every time scale: a 1.9 ms pytest cassette, a 10-minute session and
a 3-hour one. Axis ticks, range badges and table times read in the unit and precision the
range needs, so no two of them read the same; the save bar never covers the table; colours
mean event names only; a broken file offers nothing to compare."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import Dashboard
from playwright.sync_api import Locator, Page, expect

from pytest_eventrecorder.cassette import Cassette, RecordedEvent
from pytest_eventrecorder.formats import write_cassette

Shot = Callable[..., None]
pytestmark = pytest.mark.browser

TINY = "pytest_cassette.json"
TINY_RERUN = "pytest_cassette_rerun.json"
TEN_MINUTES = "ten_minutes.json"
INSTANT = "instant.json"
MANY_NAMES = "many_names.json"
THREE_HOURS = "three_hours.json"
BROKEN = "half_written.json"
NAMES = ("PriceTick", "OrderPlaced", "OrderFilled")
SOURCES = ("feed", "bot")
GAP_MS = 0.05
DASH = " \N{EN DASH} "

MS = re.compile(r"^\d+(\.\d+)? ms$")
US = re.compile(r"^[\d,]+(\.\d+)? µs$")
CLOCK = re.compile(r"^\d{1,2}:\d\d(\.\d+)?$")
HOURS = re.compile(r"^\d:\d\d:\d\d(\.\d+)?$")


def _spread(count: int, span_ms: float) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            round(span_ms * i / (count - 1), 3),
            NAMES[i % 3],
            {"i": i},
            SOURCES[i % 2],
        )
        for i in range(count)
    ]


def _write(folder: Path) -> None:
    """What a pytest test records: 39 events 0.05 ms apart, 1.9 ms in all."""
    tiny = [
        RecordedEvent(round(GAP_MS * i, 3), NAMES[i % 3], {"i": i}, SOURCES[i % 2])
        for i in range(39)
    ]
    write_cassette(folder / TINY, Cassette.build("test_orders", tiny))
    tiny[1] = RecordedEvent(tiny[1].timestamp_offset_ms, tiny[1].event_name, {"i": -1}, "bot")
    write_cassette(folder / TINY_RERUN, Cassette.build("test_orders", tiny))
    write_cassette(folder / TEN_MINUTES, Cassette.build("ten", _spread(300, 600_000)))
    write_cassette(folder / THREE_HOURS, Cassette.build("three", _spread(500, 3 * 3_600_000)))
    write_cassette(folder / INSTANT, Cassette.build("instant", [RecordedEvent(0, "Ping", {})]))
    many = [RecordedEvent(i, f"Kind{i % 12:02d}", {}, "feed") for i in range(24)]
    write_cassette(folder / MANY_NAMES, Cassette.build("many", many))
    (folder / BROKEN).write_text('{"session_name": "cut", "events": [', encoding="utf-8")


@pytest.fixture(scope="module")
def scales(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("scales")
    _write(folder)
    running = Dashboard(folder)
    yield running
    running.close()


def open_recording(page: Page, dashboard: Dashboard, filename: str) -> None:
    page.goto(f"{dashboard.url}/recording/{filename}")
    expect(page.locator("#events tbody tr").first).to_be_visible()
    expect(page.locator("#timeline g.lane").first).to_be_visible()


def axis_labels(page: Page) -> list[str]:
    return [t or "" for t in page.locator("#timeline .axis text").all_text_contents()]


def zoom_in(page: Page) -> None:
    """One "+" step, waiting until the badge shows the new range."""
    before = page.locator("#timeline-range").inner_text()
    page.locator("#timeline").focus()
    page.keyboard.press("+")
    expect(page.locator("#timeline-range")).not_to_have_text(before)


def assert_distinct(labels: list[str], unit: re.Pattern[str]) -> None:
    assert len(labels) >= 3, labels
    assert len(set(labels)) == len(labels), labels
    assert all(unit.match(label) for label in labels), (unit.pattern, labels)


# --------------------------------------------------------------------------- axis


def assert_readable(page: Page) -> None:
    """Distinct labels, side by side with room between them."""
    # Read in one go: the axis is redrawn when the zoomed data arrives.
    found = page.evaluate(
        """() => [...document.querySelectorAll("#timeline .axis text")].map(t => {
            const b = t.getBBox();
            return [t.textContent, b.x, b.x + b.width];
        })"""
    )
    labels = [label for label, _, _ in found]
    boxes = [(left, right) for _, left, right in found]
    assert len(labels) >= 2, labels
    assert len(set(labels)) == len(labels), labels
    gaps = [nxt[0] - prev[1] for prev, nxt in pairwise(boxes)]
    assert min(gaps) > 8, (labels, boxes)


@pytest.mark.parametrize(
    ("filename", "unit", "zooms"),
    # Each zoom halves the range, down to the 10 µs the timeline stops at.
    [(TINY, MS, 8), (TEN_MINUTES, CLOCK, 26), (THREE_HOURS, HOURS, 30)],
)
def test_axis_ticks_are_distinct_in_the_unit_of_the_range_at_every_zoom(
    page: Page, scales: Dashboard, shot: Shot, filename: str, unit: re.Pattern[str], zooms: int
) -> None:
    open_recording(page, scales, filename)
    assert_distinct(axis_labels(page), unit)
    assert_readable(page)
    shot(page, "scale_" + filename.split(".")[0])
    for _ in range(zooms):
        zoom_in(page)
        assert_readable(page)
    assert re.search(r"\.\d{6}$|µs$", axis_labels(page)[-1])  # microseconds at the end
    shot(page, "scale_" + filename.split(".")[0] + "_zoomed")


@pytest.mark.parametrize(("filename", "zooms"), [(TINY, 8), (THREE_HOURS, 30)])
def test_on_a_phone_the_axis_still_shows_two_readable_times(
    page: Page, scales: Dashboard, shot: Shot, filename: str, zooms: int
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    open_recording(page, scales, filename)
    assert_readable(page)
    for _ in range(zooms):
        zoom_in(page)
        assert_readable(page)
    # The long range badge (1:29:59.999995 - 1:30:00.000005 · zoomed) wraps, never widens the page.
    assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
    shot(page.locator("#timeline-card"), "scale_phone_" + filename.split(".")[0])


def test_below_a_millisecond_the_axis_reads_microseconds(page: Page, scales: Dashboard) -> None:
    open_recording(page, scales, TINY)
    for _ in range(2):
        zoom_in(page)  # 1.9 ms -> 0.475 ms around the middle
    page.locator("#timeline").focus()
    for _ in range(4):
        page.keyboard.press("ArrowLeft")  # to about 0.33 - 0.81 ms
    expect(page.locator("#timeline-range")).to_contain_text("µs")
    assert_distinct(axis_labels(page), US)


def test_the_range_badge_of_a_short_cassette_reads_its_length(
    page: Page, scales: Dashboard
) -> None:
    open_recording(page, scales, TINY)
    badge = page.locator("#timeline-range").inner_text()
    start, end = badge.split(DASH)
    assert MS.match(start), badge
    assert MS.match(end), badge
    assert float(end.split()[0]) == pytest.approx(1.9)
    assert float(start.split()[0]) == 0


@pytest.mark.parametrize(("filename", "unit"), [(TEN_MINUTES, CLOCK), (THREE_HOURS, HOURS)])
def test_long_recordings_read_as_a_clock(
    page: Page, scales: Dashboard, filename: str, unit: re.Pattern[str]
) -> None:
    open_recording(page, scales, filename)
    start, end = page.locator("#timeline-range").inner_text().split(DASH)
    assert unit.match(end) or CLOCK.match(start), (start, end)
    assert end.startswith("10:00") if filename == TEN_MINUTES else end.startswith("3:00:00")


# --------------------------------------------------------------------------- table


def test_table_times_are_distinct_for_events_a_twentieth_of_a_millisecond_apart(
    page: Page, scales: Dashboard, shot: Shot
) -> None:
    open_recording(page, scales, TINY)
    times = page.locator("#events td.time").all_inner_texts()
    assert len(times) == 39
    assert len(set(times)) == 39, times
    assert times[1] == "0.050 ms", times[:3]
    page.locator("#events tbody tr").nth(1).click()
    expect(page.locator("#detail dd").nth(1)).to_contain_text("0.050 ms")
    shot(page, "scale_tiny_table", full_page=True)


def test_a_recording_of_one_instant_reads_zero_milliseconds(page: Page, scales: Dashboard) -> None:
    open_recording(page, scales, INSTANT)
    expect(page.locator("#events td.time")).to_have_text("0 ms")
    expect(page.locator("#meta")).to_contain_text("Duration 0 ms")


def test_long_recordings_keep_millisecond_times_in_the_table(
    page: Page, scales: Dashboard
) -> None:
    open_recording(page, scales, TEN_MINUTES)
    times = page.locator("#events td.time").all_inner_texts()
    assert times[1] == "0:02.007", times[:3]  # 600000 / 299 ms, to the millisecond


def test_compare_shows_times_in_the_unit_of_the_recordings(page: Page, scales: Dashboard) -> None:
    page.goto(f"{scales.url}/compare?a={TINY}&b={TINY_RERUN}")
    labels = page.locator("#differences .side-label")
    expect(labels).to_have_count(2)
    assert labels.all_text_contents() == ["A · #1 · 0.050 ms", "B · #1 · 0.050 ms"]


# --------------------------------------------------------------------------- save bar


def overlaps(a: Locator, b: Locator) -> bool:
    one, two = a.bounding_box(), b.bounding_box()
    assert one is not None
    assert two is not None
    return not (
        one["x"] + one["width"] <= two["x"]
        or two["x"] + two["width"] <= one["x"]
        or one["y"] + one["height"] <= two["y"]
        or two["y"] + two["height"] <= one["y"]
    )


def covered_rows(page: Page) -> list[int]:
    bar = page.locator("#savebar")
    rows = page.locator("#events tbody tr")
    return [i for i in range(rows.count()) if overlaps(rows.nth(i), bar)]


@pytest.mark.parametrize("filename", [TINY, TEN_MINUTES])
def test_the_save_bar_never_covers_a_table_row(
    page: Page, scales: Dashboard, shot: Shot, filename: str
) -> None:
    page.set_viewport_size({"width": 1400, "height": 800})
    open_recording(page, scales, filename)
    zoom_in(page)
    expect(page.locator("#savebar")).to_be_visible()
    expect(page.locator("#save-what")).to_contain_text("Time range")
    page.wait_for_load_state("networkidle")
    assert covered_rows(page) == []
    # Scrolled down, the bar stays in reach under the top bar; rows scroll by beneath
    # both, as under any sticky header, but the one being read or walked to is clear.
    bar = page.locator("#savebar")
    last = page.locator("#events tbody tr").last
    last.scroll_into_view_if_needed()
    last.locator("input[type=checkbox]").check()
    expect(page.locator("#save-choice")).to_be_visible()
    assert bar.is_visible()
    assert not overlaps(last, bar)
    last.focus()
    for _ in range(12):
        page.keyboard.press("ArrowUp")
        assert not overlaps(page.locator("#events tbody tr:focus"), bar)
    assert not overlaps(page.locator("#detail h3"), bar)  # the event's detail too
    shot(page, "scale_savebar_" + filename.split(".")[0])


# --------------------------------------------------------------------------- colours


def dot_colours(page: Page, selector: str) -> list[str]:
    return [
        str(c)
        for c in page.locator(selector).evaluate_all(
            "dots => dots.map(d => getComputedStyle(d).backgroundColor)"
        )
    ]


def test_colours_mean_event_names_and_sources_are_drawn_apart(
    page: Page, scales: Dashboard, shot: Shot
) -> None:
    open_recording(page, scales, TINY)
    names = dot_colours(page, "#by-name .dot")
    sources = dot_colours(page, "#by-source .dot")
    assert len(set(names)) == len(NAMES), names
    assert not set(sources) & set(names), (names, sources)
    shape = "dots => dots.map(d => getComputedStyle(d).borderRadius)"
    name_shapes = set(page.locator("#by-name .dot").evaluate_all(shape))
    source_shapes = set(page.locator("#by-source .dot").evaluate_all(shape))
    assert name_shapes.isdisjoint(source_shapes), (name_shapes, source_shapes)
    lane_ticks = page.locator("#timeline g.lane path.ticks").evaluate_all(
        "paths => paths.map(p => getComputedStyle(p).stroke)"
    )
    assert not set(lane_ticks) & set(names), (names, lane_ticks)
    page.locator('[data-by="event_name"]').click()
    expect(page.locator("#timeline g.lane")).to_have_count(len(NAMES))
    # Sources also make three lanes, so the count can pass before the redraw: wait until the
    # drawn lanes carry the name colours (nodes read mid-redraw are detached and unstyled).
    strokes = """expected => {
        const paths = [...document.querySelectorAll('#timeline g.lane path.ticks')];
        const drawn = paths.map(p => getComputedStyle(p).stroke).sort();
        return JSON.stringify(drawn) === JSON.stringify(expected);
    }"""
    page.wait_for_function(strokes, arg=sorted(names), timeout=5000)
    table_dots = set(dot_colours(page, "#events td.ev-name .dot"))
    assert table_dots == set(names)
    shot(page, "scale_colours")


def test_past_nine_names_the_rest_share_grey_instead_of_reusing_a_colour(
    page: Page, scales: Dashboard
) -> None:
    open_recording(page, scales, MANY_NAMES)
    names = dot_colours(page, "#by-name .dot")
    assert len(names) == 12
    assert len(set(names[:9])) == 9, names
    assert len(set(names[9:])) == 1, names
    assert names[9] not in names[:9]


# --------------------------------------------------------------------------- broken


def test_a_broken_files_page_offers_no_compare(page: Page, scales: Dashboard) -> None:
    page.goto(f"{scales.url}/recording/{BROKEN}")
    expect(page.locator("#error")).to_be_visible()
    expect(page.get_by_text("Compare with")).to_be_hidden()
    problems: list[str] = page.problems  # type: ignore[attr-defined]
    problems[:] = [p for p in problems if "Failed to load resource" not in p]


def test_a_good_files_page_still_offers_compare(page: Page, scales: Dashboard) -> None:
    open_recording(page, scales, TINY)
    expect(page.locator("#compare-link")).to_be_visible()


# --------------------------------------------------------------------------- formatter

TIMES = [  # ER.time(ms, step, upTo) -> text
    ((0.05, 0.001, 1.9), "0.050 ms"),
    ((0.35, 0.05, 0.8), "350 µs"),
    ((0.3335, 0.0005, 0.4), "334 µs"),  # a microsecond is the finest step
    ((1.9, 0.2, 1.9), "1.9 ms"),
    ((1999.6, 1, 59_000), "2.000 s"),
    ((2006.689, 1, 600_000), "0:02.007"),
    ((599_999.6, 1, 600_000), "10:00.000"),
    ((5_400_000.25, 0.05, 10_800_000), "1:30:00.00025"),
    ((0, 1000, 10_800_000), "0:00:00"),
    ((0, 1, 0), "0 ms"),
]
DURATIONS = [(1.9, "1.90 ms"), (0.1, "100 µs"), (59_934, "59.9 s"), (600_000, "10:00"),
             (10_800_000, "3:00:00"), (0, "0 ms")]  # fmt: skip


def test_one_formatter_reads_every_scale(page: Page, scales: Dashboard) -> None:
    page.goto(f"{scales.url}/")
    got = page.evaluate("cases => cases.map(c => ER.time(...c))", [c for c, _ in TIMES])
    assert got == [text for _, text in TIMES]
    lengths = page.evaluate("ms => ms.map(ER.duration)", [ms for ms, _ in DURATIONS])
    assert lengths == [text for _, text in DURATIONS]
    offsets = page.evaluate("() => [ER.offset(0, 0), ER.offset(0.05, 1.9), ER.offset(12, 59000)]")
    assert offsets == ["0 ms", "0.050 ms", "0.012 s"]
