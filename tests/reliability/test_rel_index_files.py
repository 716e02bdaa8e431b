"""The dashboard's index files (kept so that a restarted server opens a big ``.jsonl`` at
once) are used only while they match the recording: a stale, corrupt or hostile one is
ignored and rebuilt, never crashes a request or changes an answer, and nothing is written
outside the recordings folder or the cache folder chosen."""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pytest_eventrecorder.server as server_module
import pytest_eventrecorder.server.index as index_module
from pytest_eventrecorder import EventRecorderConfig
from pytest_eventrecorder.cli import serve
from pytest_eventrecorder.server import create_app
from pytest_eventrecorder.server.diskindex import INDEX_FOLDER
from pytest_eventrecorder.server.errors import BadName
from pytest_eventrecorder.server.store import RecordingStore

HEADER = b'{"version":1,"session_name":"s","start_time":"2025-01-01T00:00:00Z"}\n'
NAMES = ("Alpha", "Beta", "Gamma")


def event_line(i: int, name: str | None = None) -> bytes:
    event = {
        "timestamp_offset_ms": i * 0.5,
        "event_name": name or NAMES[i % 3],
        "event_data": {"i": i, "tag": f"t{i % 7}"},
        "source": f"s{i % 2}",
    }
    return json.dumps(event).encode() + b"\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    root.mkdir()
    (root / "big.jsonl").write_bytes(HEADER + b"".join(event_line(i) for i in range(3000)))
    return root


def store(root: Path, **options: Any) -> RecordingStore:
    return RecordingStore(root, index_min_bytes=0, **options)


def seen(index: Any) -> Any:
    """Everything an index answers, to compare a loaded one with a fresh build."""
    cols = index.columns
    return (
        index.header,
        list(cols.offsets),
        [cols.names[i] for i in cols.name_ids],
        [cols.sources[i] for i in cols.source_ids],
        sorted(cols.paths),
        cols.ordered,
        index.counts("event_name"),
        index.counts("source"),
        [list(p) for p in cols.by_source],
        [e.to_dict() for e in index.events_at(range(index.count))],
    )


def fresh(root: Path) -> Any:
    return seen(RecordingStore(root, index_min_bytes=None).open("big.jsonl"))


def index_file(root: Path) -> Path:
    (found,) = (root / INDEX_FOLDER).glob("*.idx")
    return found


def opened_from_disk(root: Path, caplog: pytest.LogCaptureFixture, **options: Any) -> bool:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pytest_eventrecorder"):
        store(root, **options).open("big.jsonl")
    return not any(r.getMessage().startswith("Indexing") for r in caplog.records)


def test_a_restarted_store_reads_the_index_file_with_the_same_answers(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert not opened_from_disk(folder, caplog)
    assert index_file(folder).stat().st_size > 0
    assert opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def test_the_index_folder_is_neither_listed_nor_opened(folder: Path) -> None:
    store(folder).open("big.jsonl")
    listed = [r["filename"] for r in store(folder).list_recordings()]
    assert listed == ["big.jsonl"]
    with pytest.raises(BadName):
        store(folder).open(f"{INDEX_FOLDER}/{index_file(folder).name}")


def test_small_files_get_no_index_file(folder: Path) -> None:
    RecordingStore(folder).open("big.jsonl")  # the default threshold: 1 MB
    assert not (folder / INDEX_FOLDER).exists()


def test_an_append_makes_the_index_stale(folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    store(folder).open("big.jsonl")
    with open(folder / "big.jsonl", "ab") as out:
        out.write(event_line(3000, "Appended"))
    assert not opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)
    assert store(folder).open("big.jsonl").counts("event_name")["Appended"] == 1


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("same_mtime", [False, True])
def test_a_rewrite_of_the_same_size_makes_the_index_stale(
    folder: Path, caplog: pytest.LogCaptureFixture, where: str, same_mtime: bool
) -> None:
    path = folder / "big.jsonl"
    store(folder).open("big.jsonl")
    before = path.stat()
    lines = path.read_bytes().splitlines(keepends=True)
    at = 1 if where == "first" else -1
    lines[at] = lines[at].replace(b'"Alpha"', b'"Omega"').replace(b'"Beta"', b'"Zeta"')
    lines[at] = lines[at].replace(b'"Gamma"', b'"Delta"')
    path.write_bytes(b"".join(lines))
    assert path.stat().st_size == before.st_size
    if same_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def rewrite_keeping_mtime(path: Path, before: os.stat_result) -> None:
    """Another recording in its place, larger (every line place an index of the old one
    holds is in range), with the old modification time."""
    path.write_bytes(HEADER + b"".join(event_line(i, "Rewritten") for i in range(4000)))
    assert path.stat().st_size != before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_rewrite_of_another_size_with_the_old_mtime_makes_the_index_stale(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = folder / "big.jsonl"
    store(folder).open("big.jsonl")
    rewrite_keeping_mtime(path, path.stat())
    assert not opened_from_disk(folder, caplog)
    assert store(folder).open("big.jsonl").counts("event_name") == {"Rewritten": 4000}


def test_a_rewrite_while_indexing_never_becomes_the_index_file(
    folder: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file changes after it was read and before its index is saved: that index is of
    the old content, so it must not be saved under the new file's size and time."""
    path = folder / "big.jsonl"
    before = path.stat()
    read_lines = index_module._read_lines

    def rewritten_meanwhile(*args: Any) -> Any:
        indexed = read_lines(*args)
        rewrite_keeping_mtime(path, before)
        return indexed

    monkeypatch.setattr(index_module, "_read_lines", rewritten_meanwhile)
    store(folder).open("big.jsonl")
    monkeypatch.undo()
    assert not opened_from_disk(folder, caplog)
    assert store(folder).open("big.jsonl").counts("event_name") == {"Rewritten": 4000}
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def flipped(data: bytes, at: int) -> bytes:
    at = min(at, len(data) - 1)
    return data[:at] + bytes([data[at] ^ 0x55]) + data[at + 1 :]


def corrupt_ways(data: bytes) -> dict[str, bytes]:
    middle = len(data) // 2
    described = 12 + int.from_bytes(data[8:12], "little") if len(data) > 12 else 0
    return {
        "an offset changed": flipped(data, described + 8 * 5),  # still a valid offset
        "a name changed": data.replace(b'"Alpha"', b'"Alpho"'),
        "empty": b"",
        "truncated": data[: len(data) - 9],
        "a byte flipped": flipped(data, middle),
        "garbage": os.urandom(len(data)),
        "longer": data + b"\0" * 64,
        "magic only": data[:8],
    }


@pytest.mark.parametrize("way", list(corrupt_ways(b"x" * 100)))
def test_a_corrupt_index_file_is_ignored_and_rebuilt(
    folder: Path, caplog: pytest.LogCaptureFixture, way: str
) -> None:
    store(folder).open("big.jsonl")
    target = index_file(folder)
    target.write_bytes(corrupt_ways(target.read_bytes())[way])
    assert not opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)
    assert opened_from_disk(folder, caplog)  # rebuilt and written again


def forged(data: bytes, change: Any) -> bytes:
    """The index file with its description changed by ``change`` and a valid checksum."""
    (size,) = struct.unpack_from("<I", data, 8)
    meta = json.loads(data[12 : 12 + size])
    changed = change(meta)
    body = changed if isinstance(changed, bytes) else json.dumps(changed).encode()
    rest = data[12 + size : -4]
    out = data[:8] + struct.pack("<I", len(body)) + body + rest
    return out + struct.pack("<I", zlib.crc32(out[8:]))


HOSTILE = {
    "names cut short": lambda m: {**m, "names": m["names"][:1], "name_counts": [m["count"]]},
    "counts that lie": lambda m: {**m, "name_counts": [m["count"], 0, 0]},
    "a huge count": lambda m: {**m, "count": 10**12},
    "a negative count": lambda m: {**m, "count": -1},
    "wrong types": lambda m: {**m, "names": 5, "paths": {"a": 1}},
    "another file's": lambda m: {**m, "name": "other.jsonl"},
    "not an object": lambda m: [m],
    "deep": lambda m: b'{"paths":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
}


@pytest.mark.parametrize("way", list(HOSTILE))
def test_a_hostile_index_file_is_ignored_and_rebuilt(
    folder: Path, caplog: pytest.LogCaptureFixture, way: str
) -> None:
    store(folder).open("big.jsonl")
    target = index_file(folder)
    target.write_bytes(forged(target.read_bytes(), HOSTILE[way]))
    assert not opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def test_ids_out_of_range_in_a_forged_index_file_are_refused(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store(folder).open("big.jsonl")
    target = index_file(folder)
    data = bytearray(target.read_bytes())
    (size,) = struct.unpack_from("<I", data, 8)
    meta = json.loads(data[12 : 12 + size])
    name_ids = 12 + size + 8 * meta["count"]  # right after the offsets
    struct.pack_into("<i", data, name_ids + 4 * 10, 7)  # a name id past the three names
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[8:-4])))
    target.write_bytes(bytes(data))
    assert not opened_from_disk(folder, caplog)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def test_a_linked_index_folder_is_never_written_through(folder: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / INDEX_FOLDER).symlink_to(outside)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)
    assert list(outside.iterdir()) == []


def test_an_unwritable_index_folder_still_serves(folder: Path) -> None:
    (folder / INDEX_FOLDER).write_text("a file where the folder would be")
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)
    assert seen(store(folder).open("big.jsonl")) == fresh(folder)


def test_a_chosen_cache_folder_holds_the_index_files(
    folder: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    assert not opened_from_disk(folder, caplog, index_dir=cache)
    assert opened_from_disk(folder, caplog, index_dir=cache)
    assert not (folder / INDEX_FOLDER).exists()
    assert [p.suffix for p in cache.iterdir()] == [".idx"]


def test_the_app_passes_the_cache_folder_on(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    app = create_app(EventRecorderConfig(recordings_dir=folder), index_dir=cache)
    assert app.extensions["eventrecorder"].store.index_dir == cache


@pytest.mark.parametrize("how", ["option", "environment"])
def test_serve_takes_the_cache_folder_from_an_option_or_the_environment(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    made: list[dict[str, Any]] = []

    class Server:
        def __init__(self, config: EventRecorderConfig, **options: Any) -> None:
            made.append(options)
            self.url = "http://127.0.0.1:0"

        def run(self) -> None:
            pass

    monkeypatch.setattr(server_module, "EventRecorderServer", Server)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EVENTRECORDER_INDEX_DIR", raising=False)
    arguments = ["--recordings-dir", str(folder), "--port", "0"]
    if how == "option":
        arguments += ["--index-dir", str(tmp_path / "cache")]
    else:
        monkeypatch.setenv("EVENTRECORDER_INDEX_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(serve, arguments)
    assert result.exit_code == 0, result.output
    assert made[0]["index_dir"] == tmp_path / "cache"
