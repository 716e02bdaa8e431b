"""The recordings store: safe names, listing, indexes, filters, and never-overwriting saves."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dashboard_samples import HEADER_LINE, START, sample_events, write

from pytest_eventrecorder import Cassette, CassetteHeader, EventStream, RecordedEvent
from pytest_eventrecorder.server.store import (
    BadName,
    BrokenRecording,
    EventQuery,
    NotFound,
    RecordingStore,
    check_name,
    safe_stem,
    suffix_of,
    values_at,
)

TRAVERSAL = [
    "../secret.json",
    "..",
    ".",
    "",
    "/etc/passwd.json",
    "sub//session.json",
    "sub/../session.json",
    "sub/.hidden/session.json",
    "a/b/c/d/e/session.json",
    "..\\secret.json",
    "C:\\secret.json",
    "%2e%2e%2fsecret.json",
    "..%2fsecret.json",
    "%2e%2e",
    "session.json\x00.txt",
    "session\n.json",
    ".hidden.json",
    "..session.json",
    "session.txt",
    "session",
    "x" * 300 + ".json",
]


@pytest.mark.parametrize("name", TRAVERSAL)
def test_bad_names_are_refused_with_the_reason(recordings: Path, name: str) -> None:
    with pytest.raises(BadName, match="file name"):
        RecordingStore(recordings).resolve(name)


def test_cassettes_in_sub_folders_are_listed_and_opened(recordings: Path) -> None:
    """pytest writes cassettes/<module>/<test>.json: pointing the dashboard at cassettes/
    must show them."""
    module = recordings / "test_bot"
    module.mkdir()
    write(module, "test_orders.json")
    (recordings / ".git" / "objects").mkdir(parents=True)
    write(recordings / ".git" / "objects", "hidden.json")
    store = RecordingStore(recordings)
    names = {r["filename"] for r in store.list_recordings()}
    assert "test_bot/test_orders.json" in names
    assert not any(name.startswith(".git") for name in names)
    assert store.open("test_bot/test_orders.json").count == 10
    with pytest.raises(NotFound, match=r"no recording named 'test_bot/nope\.json'"):
        store.resolve("test_bot/nope.json")


def test_a_linked_sub_folder_is_neither_listed_nor_followed_out(
    recordings: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "secret.json")
    (recordings / "dirlink").symlink_to(outside, target_is_directory=True)
    store = RecordingStore(recordings)
    assert not any(r["filename"].startswith("dirlink") for r in store.list_recordings())
    with pytest.raises(BadName, match="links outside the recordings folder"):
        store.resolve("dirlink/secret.json")


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_a_stream_cut_short_is_listed_with_the_events_it_holds(
    recordings: Path, suffix: str
) -> None:
    """A stream_to file whose process died never got its final header (it says 0 events)."""
    path = recordings / f"crashed{suffix}"
    stream = EventStream(path, CassetteHeader("crashed", START))
    for i in range(500):
        stream.append(RecordedEvent(i * 2.0, "Tick", {"n": i}, "feed"))
    stream.close()  # closed, never finalized: as after a kill
    if suffix == ".jsonl":  # blank lines hold no event; and the writer died mid-line
        with open(path, "ab") as out:
            out.write(b'\n  \r\n{"timestamp_offset_ms": 1000.0, "event_na')
    store = RecordingStore(recordings)
    for _ in range(2):  # first listing, then the cached one
        entry = next(r for r in store.list_recordings() if r["filename"] == path.name)
        assert (entry["total_events"], entry["duration_ms"]) == (500, 998.0)
    assert store.open(path.name).count == 500


def test_a_name_must_be_a_string() -> None:
    with pytest.raises(BadName, match="non-empty string"):
        check_name(None)


def test_a_symlink_out_of_the_folder_is_refused(recordings: Path, tmp_path: Path) -> None:
    outside = write(tmp_path, "outside.json")
    (recordings / "link.json").symlink_to(outside)
    store = RecordingStore(recordings)
    with pytest.raises(BadName, match="links outside the recordings folder"):
        store.resolve("link.json")
    assert "link.json" not in {r["filename"] for r in store.list_recordings()}


def test_a_symlink_inside_the_folder_is_followed(recordings: Path) -> None:
    (recordings / "alias.json").symlink_to(recordings / "session.json")
    store = RecordingStore(recordings)
    assert store.resolve("alias.json") == (recordings / "session.json").resolve()
    assert store.open("alias.json").count == 10


def test_a_missing_file_is_not_found(recordings: Path) -> None:
    with pytest.raises(NotFound, match=r"no recording named 'nope\.json'"):
        RecordingStore(recordings).resolve("nope.json")


def test_the_list_has_every_cassette_and_names_the_broken_one(recordings: Path) -> None:
    (recordings / ".draft.json").write_text("{}")
    (recordings / "notes.txt").write_text("not a cassette")
    (recordings / "folder.json").mkdir()
    entries = {r["filename"]: r for r in RecordingStore(recordings).list_recordings()}
    assert set(entries) == {
        "session.json",
        "session.jsonl",
        "session.yaml",
        "session.jsonl.gz",
        "broken.json",
    }
    good = entries["session.jsonl"]
    assert good["session_name"] == "bull_run"
    assert good["total_events"] == 10
    assert good["duration_ms"] == 900.0
    assert good["size_bytes"] == (recordings / "session.jsonl").stat().st_size
    assert good["modified"].endswith("Z")
    broken = entries["broken.json"]
    assert broken["error"].startswith("broken.json")
    assert "event_name" in broken["error"]
    assert str(recordings) not in broken["error"]


def test_the_list_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert RecordingStore(tmp_path / "nowhere").list_recordings() == []


def test_the_list_rereads_a_file_only_when_it_changes(recordings: Path) -> None:
    store = RecordingStore(recordings)
    first = {r["filename"]: r for r in store.list_recordings()}
    assert {r["filename"]: r for r in store.list_recordings()}["session.json"] is first[
        "session.json"
    ]
    write(recordings, "session.json", sample_events()[:3], session="renamed")
    again = {r["filename"]: r for r in store.list_recordings()}["session.json"]
    assert (again["session_name"], again["total_events"]) == ("renamed", 3)


@pytest.mark.parametrize(
    "name", ["session.json", "session.jsonl", "session.yaml", "session.jsonl.gz"]
)
def test_every_format_is_indexed_alike(recordings: Path, name: str) -> None:
    index = RecordingStore(recordings).open(name)
    assert index.count == 10
    assert index.header.session_name == "bull_run"
    assert [e.to_dict() for e in index.events_at([0, 9, 4])] == [
        sample_events()[i].to_dict() for i in (0, 9, 4)
    ]
    assert index.counts("event_name") == {"MarketDataReceived": 5, "OrderPlaced": 5}
    assert index.counts("source") == {"MarketDataAgent": 5, "TradingBot": 4, "": 1}


def test_an_index_is_reused_until_the_file_changes(recordings: Path) -> None:
    store = RecordingStore(recordings)
    first = store.open("session.jsonl")
    assert store.open("session.jsonl") is first
    write(recordings, "session.jsonl", sample_events()[:4])
    second = store.open("session.jsonl")
    assert second is not first
    assert second.count == 4


def test_the_least_recently_used_indexes_go_first(recordings: Path) -> None:
    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):
        write(recordings, name)
    one = RecordingStore(recordings).open("a.jsonl").nbytes
    store = RecordingStore(recordings, index_budget=int(one * 2.5))
    first, second = store.open("a.jsonl"), store.open("b.jsonl")
    assert store.open("a.jsonl") is first
    store.open("c.jsonl")
    assert store.open("a.jsonl") is first  # used last: kept
    assert store.open("b.jsonl") is not second


def test_a_jsonl_line_cut_short_at_the_end_is_skipped(recordings: Path) -> None:
    path = recordings / "session.jsonl"
    with open(path, "ab") as out:
        out.write(b'{"timestamp_offset_ms": 1000, "event_na')
    assert RecordingStore(recordings).open("session.jsonl").count == 10


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "line 1"),
        (
            HEADER_LINE + b'{"timestamp_offset_ms": 0, "event_data": 1}\n',
            "line 2, event 0, field 'event_name'",
        ),
        (
            HEADER_LINE + b'{oops\n{"timestamp_offset_ms": 1, "event_name": "a"}\n',
            "line 2: not valid JSON",
        ),
        (
            HEADER_LINE + b"\xff\xfe\n",
            "line 2: not valid",
        ),
    ],
)
def test_a_broken_jsonl_file_names_its_line(recordings: Path, content: bytes, problem: str) -> None:
    (recordings / "bad.jsonl").write_bytes(content)
    with pytest.raises(BrokenRecording) as caught:
        RecordingStore(recordings).open("bad.jsonl")
    assert caught.value.message.startswith("bad.jsonl")
    assert problem in caught.value.message
    assert str(recordings) not in caught.value.message


def test_a_broken_json_file_is_a_broken_recording(recordings: Path) -> None:
    with pytest.raises(BrokenRecording, match=r"broken\.json, event 0, field 'event_name'"):
        RecordingStore(recordings).open("broken.json")


def test_an_unreadable_file_is_a_broken_recording(recordings: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    (recordings / "session.json").chmod(0)
    with pytest.raises(BrokenRecording, match="cannot read"):
        RecordingStore(recordings).open("session.json")


# --------------------------------------------------------------------------- queries


def picked(recordings: Path, query: EventQuery, name: str = "session.jsonl") -> list[int]:
    return list(RecordingStore(recordings).open(name).matching(query))


@pytest.mark.parametrize("name", ["session.json", "session.jsonl"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (EventQuery(), list(range(10))),
        (EventQuery(event_names=("OrderPlaced",)), [1, 3, 5, 7, 9]),
        (EventQuery(event_names=("OrderPlaced", "MarketDataReceived")), list(range(10))),
        (EventQuery(event_names=("Nope",)), []),
        (EventQuery(sources=("TradingBot",)), [5, 6, 7, 8]),
        (EventQuery(sources=("",)), [9]),
        (EventQuery(sources=("Nope",)), []),
        (EventQuery(event_names=("OrderPlaced",), sources=("TradingBot",)), [5, 7]),
        (EventQuery(text="eth/"), [6, 7, 8, 9]),
        (EventQuery(text="tradingbot"), [5, 6, 7, 8]),
        (EventQuery(text="orderplaced"), [1, 3, 5, 7, 9]),
        (EventQuery(field="order.side", value="SELL"), [0, 3, 6, 9]),
        (EventQuery(field="price", value="104"), [4]),
        (EventQuery(field="items.*.sku", value="s2"), [2]),
        (EventQuery(field="items.0.sku", value="s3"), [3]),
        (EventQuery(field="order.id"), list(range(10))),
        (EventQuery(field="nothing.here"), []),
        (EventQuery(from_ms=200, to_ms=400), [2, 3, 4]),
        (EventQuery(from_ms=850), [9]),
        (EventQuery(to_ms=0), [0]),
        (EventQuery(event_names=("OrderPlaced",), from_ms=200, to_ms=600, text="btc"), [3, 5]),
    ],
)
def test_queries_pick_the_right_events(
    recordings: Path, name: str, query: EventQuery, expected: list[int]
) -> None:
    assert picked(recordings, query, name) == expected


def test_a_query_result_is_cached(recordings: Path) -> None:
    index = RecordingStore(recordings).open("session.jsonl")
    query = EventQuery(text="eth")
    assert index.matching(query) is index.matching(query)


def test_time_ranges_also_work_on_unordered_offsets(recordings: Path) -> None:
    events = [RecordedEvent(t, "E", {"n": i}) for i, t in enumerate([5.0, 1.0, 3.0])]
    write(recordings, "unordered.jsonl", events)
    assert picked(recordings, EventQuery(from_ms=2, to_ms=5), "unordered.jsonl") == [0, 2]


def test_a_value_needs_a_field() -> None:
    with pytest.raises(ValueError, match="'value' needs 'field'"):
        EventQuery(value="x")


def test_a_field_path_has_no_empty_segment() -> None:
    with pytest.raises(ValueError, match="empty segment"):
        EventQuery(field="order..id")


def test_values_at_follows_keys_indexes_and_wildcards() -> None:
    data = {"a": [{"b": 1}, {"b": 2}], "c": {"d": None}}
    assert list(values_at(data, ["a", "*", "b"])) == [1, 2]
    assert list(values_at(data, ["a", "1", "b"])) == [2]
    assert list(values_at(data, ["c", "d"])) == [None]
    assert list(values_at(data, ["c", "d", "e"])) == []


def test_a_page_is_a_slice_of_the_matches(recordings: Path) -> None:
    index = RecordingStore(recordings).open("session.jsonl")
    events, total = index.page(EventQuery(event_names=("OrderPlaced",)), offset=1, limit=2)
    assert total == 5
    assert [e["index"] for e in events] == [3, 5]
    assert events[0] == {"index": 3, **sample_events()[3].to_dict()}


def test_the_field_paths_list_nested_keys_and_list_items(recordings: Path) -> None:
    paths = RecordingStore(recordings).open("session.json").columns.paths
    assert sorted(paths) == [
        "items",
        "items.*.sku",
        "order",
        "order.id",
        "order.side",
        "price",
        "symbol",
    ]


def test_the_timeline_counts_events_per_lane_and_bucket(recordings: Path) -> None:
    index = RecordingStore(recordings).open("session.jsonl")
    timeline = index.timeline("source", buckets=3)
    lanes = {lane["name"]: lane for lane in timeline["lanes"]}
    assert timeline["duration_ms"] == 900.0
    assert lanes["MarketDataAgent"]["histogram"] == [3, 2, 0]
    assert lanes["TradingBot"]["offsets_ms"] == [500.0, 600.0, 700.0, 800.0]
    assert lanes[""]["count"] == 1
    zoomed = index.timeline("event_name", buckets=2, from_ms=0, to_ms=300)
    assert {lane["name"]: lane["histogram"] for lane in zoomed["lanes"]} == {
        "MarketDataReceived": [1, 1],
        "OrderPlaced": [1, 1],
    }


# --------------------------------------------------------------------------- saving


def test_a_new_recording_never_replaces_an_existing_file(recordings: Path) -> None:
    store = RecordingStore(recordings)
    before = (recordings / "session.json").read_bytes()
    cassette = Cassette.build("s", sample_events()[:2])
    assert store.save_new("session", cassette) == "session_1.json"
    assert store.save_new("session", cassette) == "session_2.json"
    assert (recordings / "session.json").read_bytes() == before
    assert not [p for p in recordings.iterdir() if p.name.startswith(".")]
    saved = json.loads((recordings / "session_1.json").read_text())
    assert len(saved["events"]) == 2


def test_saving_creates_the_folder(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "new")
    assert store.save_new("a b", Cassette.build("a b", [])) == "a_b.json"


@pytest.mark.parametrize(
    ("wanted", "stem"),
    [
        ("bull run 2025", "bull_run_2025"),
        ("../../etc/passwd", "etc_passwd"),
        ("..", "recording"),
        ("a..b", "a.b"),
        ("C:\\x\\y", "C_x_y"),
        ("日本", "recording"),
        (".hidden", "hidden"),
        ("x" * 300, "x" * 100),
    ],
)
def test_new_names_are_sanitised(wanted: str, stem: str) -> None:
    assert safe_stem(wanted) == stem


@pytest.mark.parametrize(
    ("name", "suffix"),
    [("a.json", ".json"), ("a.JSONL", ".jsonl"), ("a.yml", ".yaml"), ("a.b.jsonl.gz", ".jsonl.gz")],
)
def test_the_suffix_keeps_the_format(name: str, suffix: str) -> None:
    assert suffix_of(name) == suffix


def test_a_page_of_a_jsonl_is_one_read(recordings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each syscall hands the interpreter to another request thread: a page makes one, not 100.
    events = [RecordedEvent(float(i), "E", {"i": i}) for i in range(300)]
    write(recordings, "many.jsonl", events)
    index = RecordingStore(recordings).open("many.jsonl")
    reads: list[int] = []
    real_pread = os.pread

    def counted(fd: int, length: int, offset: int) -> bytes:
        reads.append(length)
        return real_pread(fd, length, offset)

    monkeypatch.setattr(os, "pread", counted)
    page, total = index.page(EventQuery(), 100, 100)
    assert [e["event_data"] for e in page] == [{"i": i} for i in range(100, 200)]
    assert total == 300
    assert len(reads) == 1
    picked = list(index.events_at([5, 250, 6]))  # far apart: read apart, in the order asked
    assert [e.event_data for e in picked] == [{"i": 5}, {"i": 250}, {"i": 6}]
