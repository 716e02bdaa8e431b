"""``eventrecorder record`` / ``replay``: the click commands, driven against a real Redis."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_helpers import closed_port, wait_for
from click.testing import CliRunner, Result

from pytest_eventrecorder import EventReplayer, RecordedEvent, read_cassette, write_cassette
from pytest_eventrecorder.adapters.payload import describe_payload
from pytest_eventrecorder.cli import brokers as commands
from pytest_eventrecorder.cli.errors import EXIT_ERROR

redis = pytest.importorskip("redis")


def invoke(command: Any, *args: object) -> Result:
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def client(redis_url: str) -> Iterator[Any]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def publishing(client: Any, uid: str) -> Iterator[threading.Event]:
    """Publishes ``<uid>.tick`` (and unrelated noise) every 20 ms until the test ends."""
    stop = threading.Event()

    def run() -> None:
        count = 0
        while not stop.wait(0.02):
            count += 1
            client.publish(f"{uid}.tick", f'{{"n": {count}}}')
            client.publish(f"noise-{uid}", b"ignored")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield stop
    stop.set()
    thread.join()


@pytest.mark.broker
def test_record_stops_at_max_events_and_saves(
    redis_url: str, uid: str, tmp_path: Path, publishing: threading.Event
) -> None:
    out = tmp_path / "prod.jsonl"
    result = invoke(
        commands.record, "--from", redis_url, "-o", out, "--max-events", 3, "--channel", f"{uid}.*"
    )
    assert result.exit_code == 0, result.output
    cassette = read_cassette(out)
    assert [e.event_name for e in cassette.events] == [f"{uid}.tick"] * 3
    assert cassette.header.session_name == "prod"
    assert cassette.header.metadata == {"recorded_from": f"{redis_url}?channel={uid}.*"}
    assert list(tmp_path.iterdir()) == [out]  # the partial stream file is gone
    assert "Saved 3 events" in result.stderr


@pytest.mark.broker
def test_record_for_a_duration_with_no_traffic(redis_url: str, uid: str, tmp_path: Path) -> None:
    out = tmp_path / "quiet.yaml.gz"
    result = invoke(
        commands.record, "--from", redis_url, "-o", out, "--duration", 0.3, "--channel", uid
    )
    assert result.exit_code == 0, result.output
    assert read_cassette(out).events == ()


@pytest.mark.broker
def test_record_for_a_duration_stops_then_even_on_a_busy_bus(
    redis_url: str, uid: str, tmp_path: Path, publishing: threading.Event
) -> None:
    """The wait for what the broker already sent is for a stop signal, not --duration."""
    out = tmp_path / "busy.jsonl"
    result = invoke(
        commands.record, "--from", redis_url, "-o", out, "--duration", 0.5, "--channel", f"{uid}.*"
    )
    assert result.exit_code == 0, result.output
    assert "Stopping: recording what the broker already sent" not in result.stderr
    assert read_cassette(out).header.duration_ms < 2_500  # a drain would have run 5 s


def test_record_errors_are_one_clear_line(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    unknown = invoke(commands.record, "--from", "kafka://h:9092", "-o", out)
    assert (unknown.exit_code, unknown.stderr.count("\n")) == (2, 1)
    assert "no adapter handles URLs like kafka://" in unknown.stderr

    port = closed_port()
    refused = invoke(commands.record, "--from", f"redis://u:hunter2@127.0.0.1:{port}", "-o", out)
    assert refused.exit_code == 2
    assert f"redis://u:***@127.0.0.1:{port}: cannot connect" in refused.stderr
    assert "hunter2" not in refused.output
    assert list(tmp_path.iterdir()) == []  # no partial file left behind

    suffix = invoke(commands.record, "--from", "redis://localhost", "-o", tmp_path / "x.txt")
    assert suffix.exit_code == 2
    assert "unknown cassette format" in suffix.stderr


def cassette_with(uid: str, tmp_path: Path) -> Path:
    def event(offset: float, name: str, raw: bytes) -> RecordedEvent:
        data, metadata = describe_payload(raw)
        return RecordedEvent(offset, name, data, "redis://prod:6379", None, metadata or None)

    events = [
        event(0.0, f"{uid}.keep", b'{"a": 1,  "b": [ ]}'),
        event(5.0, f"{uid}.skip", b"nope"),
        event(10.0, f"{uid}.keep2", b"\x00\x01\x02"),
    ]
    return write_cassette(tmp_path / "in.jsonl", EventReplayer.from_events(events).to_cassette())


def listen(client: Any, pattern: str) -> Any:
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(pattern)
    wait_for(lambda: pubsub.get_message(timeout=0.1) is None and pubsub.subscribed, "PSUBSCRIBE")
    return pubsub


def messages(pubsub: Any, count: int) -> list[tuple[bytes, bytes]]:
    got: list[tuple[bytes, bytes]] = []

    def more() -> bool:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            got.append((message["channel"], message["data"]))
        return len(got) >= count

    wait_for(more, f"{count} messages")
    return got


@pytest.mark.broker
def test_replay_filters_events_and_sends_exact_bytes(
    redis_url: str, client: Any, uid: str, tmp_path: Path
) -> None:
    path = cassette_with(uid, tmp_path)
    listener = listen(client, f"{uid}.*")
    result = invoke(
        commands.replay, path, "--to", redis_url, "--speed", "max", "--event", f"{uid}.keep*"
    )
    assert result.exit_code == 0, result.output
    assert messages(listener, 2) == [
        (f"{uid}.keep".encode(), b'{"a": 1,  "b": [ ]}'),
        (f"{uid}.keep2".encode(), b"\x00\x01\x02"),
    ]
    assert listener.get_message(timeout=0.2) is None  # the filtered event was not sent
    assert f"Replayed 2 events into {redis_url}" in result.stderr
    assert "Replaying into" not in result.stderr  # not a terminal: no progress bar
    listener.close()


@pytest.mark.broker
def test_replay_draws_a_progress_bar_on_a_terminal(
    redis_url: str, uid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "_is_tty", lambda: True)
    result = invoke(
        commands.replay, cassette_with(uid, tmp_path), "--to", redis_url, "--speed", 1e6
    )
    assert result.exit_code == 0, result.output
    assert f"Replaying into {redis_url}" in result.stderr  # click draws the rest on a real TTY


def test_replay_errors_are_clear(tmp_path: Path) -> None:
    path = cassette_with("x", tmp_path)
    slow = invoke(commands.replay, path, "--to", "redis://localhost", "--speed", "-2")
    assert slow.exit_code == 2
    assert "'-2' is not a positive number or 'max'" in slow.stderr
    port = closed_port()
    refused = invoke(commands.replay, path, "--to", f"amqp://guest:guest@127.0.0.1:{port}/")
    assert refused.exit_code == 2
    assert f"amqp://guest:***@127.0.0.1:{port}/: cannot connect" in refused.stderr
    missing = invoke(commands.replay, tmp_path / "nope.json", "--to", "redis://localhost")
    assert missing.exit_code == 2
    assert "nope.json" in missing.stderr
    zero = invoke(commands.replay, path, "--to", "redis://localhost", "--speed", "0")
    assert "'0' is not a positive number or 'max'" in zero.stderr
    unmatched = invoke(commands.replay, tmp_path / "none_*.json", "--to", "redis://localhost")
    assert "none_*.json: no file matches" in unmatched.stderr  # as every command says it


@pytest.mark.broker
def test_the_eventrecorder_console_script_replays(
    redis_url: str, client: Any, uid: str, tmp_path: Path
) -> None:
    script = shutil.which("eventrecorder")
    if script is None:
        pytest.skip("the eventrecorder console script is not installed (pip install -e .)")
    listener = listen(client, f"{uid}.*")
    args = ["replay", str(cassette_with(uid, tmp_path)), "--to", redis_url, "--speed", "max"]
    done = subprocess.run([script, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [channel for channel, _ in messages(listener, 3)] == [
        f"{uid}.keep".encode(),
        f"{uid}.skip".encode(),
        f"{uid}.keep2".encode(),
    ]
    listener.close()


@pytest.mark.broker
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_record_as_a_process_saves_everything_on_a_stop_signal(
    redis_url: str, uid: str, tmp_path: Path, publishing: threading.Event, stop_signal: int
) -> None:
    out = tmp_path / "live.json"
    code = "from pytest_eventrecorder.cli.brokers import record; record()"
    args = ["--from", redis_url, "-o", str(out), "--channel", f"{uid}.*"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stderr=subprocess.PIPE, text=True
    )
    partial = tmp_path / ("live.json" + commands.PARTIAL_SUFFIX)
    try:
        wait_for(
            lambda: partial.exists() and partial.read_text().count("\n") >= 3,
            "events streamed to the partial file",
            timeout=20,
        )
        publishing.set()  # quiet now: the stop does not wait for the traffic to pause
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    events = read_cassette(out).events
    assert len(events) >= 2
    assert {e.event_name for e in events} == {f"{uid}.tick"}
    assert f"Saved {len(events)} events to {out}" in stderr
    assert not partial.exists()


@pytest.mark.broker
def test_a_stop_signal_still_records_what_the_broker_already_sent(
    redis_url: str, uid: str, tmp_path: Path, client: Any
) -> None:
    """Ctrl-C right after a burst: the messages still in the client's buffers are kept."""
    out = tmp_path / "burst.jsonl"
    code = "from pytest_eventrecorder.cli.brokers import record; record()"
    args = ["--from", redis_url, "-o", str(out), "--channel", f"{uid}.burst"]
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args], stderr=subprocess.PIPE, text=True
    )
    partial = tmp_path / ("burst.jsonl" + commands.PARTIAL_SUFFIX)

    def probed() -> bool:
        client.publish(f"{uid}.burst", '{"probe": true}')
        return partial.exists() and partial.read_text().count("\n") >= 2

    try:
        wait_for(probed, "the recorder to receive a first message", timeout=20)
        pipe = client.pipeline(transaction=False)
        for n in range(5000):
            pipe.publish(f"{uid}.burst", f'{{"n": {n}}}')
        pipe.execute()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    burst = [e.event_data["n"] for e in read_cassette(out).events if "n" in e.event_data]
    assert burst == list(range(5000))
    assert "Stopping: recording what the broker already sent" in stderr


def test_record_never_replaces_what_an_unfinished_recording_left(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    partial = tmp_path / ("prod.json" + commands.PARTIAL_SUFFIX)
    partial.write_text('{"session_name": "crashed"}\n{"event_name": "only copy"}\n')
    before = partial.read_bytes()
    result = CliRunner().invoke(
        commands.record, ["--from", f"redis://127.0.0.1:{closed_port()}/0", "-o", str(out)]
    )
    assert result.exit_code == EXIT_ERROR
    assert f"{partial} holds the events of an earlier recording that did not finish" in (
        result.stderr
    )
    assert partial.read_bytes() == before
    assert not out.exists()


@pytest.fixture
def publishing_secrets(client: Any, uid: str) -> Iterator[None]:
    """Publishes a login with a token and an ssn on ``<uid>.login`` every 20 ms."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.02):
            client.publish(f"{uid}.login", '{"user": "bob", "token": "xyz", "ssn": "123"}')

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


@pytest.mark.broker
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), {"user": "bob", "token": "[REDACTED]", "ssn": "123"}),
        (("--redact-key", "ssn"), {"user": "bob", "token": "[REDACTED]", "ssn": "[REDACTED]"}),
        (("--no-redact",), {"user": "bob", "token": "xyz", "ssn": "123"}),
    ],
)
def test_record_redacts_credentials_unless_told_otherwise(
    redis_url: str,
    uid: str,
    tmp_path: Path,
    publishing_secrets: None,
    flags: tuple[str, ...],
    expected: dict[str, str],
) -> None:
    out = tmp_path / "logins.json"
    args = ("--from", redis_url, "-o", out, "--max-events", 2, "--channel", f"{uid}.*", *flags)
    result = invoke(commands.record, *args)
    assert result.exit_code == 0, result.output
    datas = [e.event_data for e in read_cassette(out).events]
    assert datas == [expected, expected]
    raw = out.read_text()
    assert ("xyz" in raw) == ("--no-redact" in flags)


def test_record_refuses_contradicting_redaction_flags(tmp_path: Path) -> None:
    result = invoke(
        commands.record, "--from", "redis://localhost", "-o", tmp_path / "x.json",
        "--no-redact", "--redact-key", "ssn",
    )
    assert result.exit_code == 2
    assert "--no-redact and --redact-key contradict each other" in result.output
