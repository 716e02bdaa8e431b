"""An instant replay of a ``.jsonl`` reads untagged blocks without walking every event's data
(see ``formats.iter_event_blocks``); a number past the float range (``1e400``, read as
infinity) must still never reach the bus. The replay stops with a CassetteError naming the
file and the line, with the fast decoder (the ``[fast]`` extra) and with the standard library
alone (run again below in a subprocess where the extra is blocked)."""

from __future__ import annotations

import gzip
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_eventrecorder import CassetteError, EventReplayer, codec

HERE = Path(__file__).parent
HEADER = '{"session_name":"s","start_time":"2025-01-02T03:04:05.678Z"}'
GOOD_EVENTS = 300
"""Enough good lines before the bad one that it sits in a later batch than the first."""

# Number texts the standard library reads as infinity (msgspec refuses them all).
HUGE = {
    "exponent": "1.5e400",
    "negative": "-1e400",
    "capital-E-plus": "2E+0400",
    "long-mantissa": "1" + "0" * 310 + ".5",
    "long-mantissa-small-exponent": "1" + "0" * 250 + "e60",
}


def line(data: str) -> str:
    return f'{{"timestamp_offset_ms":0,"event_name":"E","event_data":{data},"source":null}}'


def write(tmp_path: Path, suffix: str, bad: str) -> Path:
    lines = [HEADER, *(line('{"p":1.5}') for _ in range(GOOD_EVENTS)), line(bad), line("2")]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / f"huge{suffix}"
    path.write_bytes(gzip.compress(data, mtime=0) if suffix.endswith(".gz") else data)
    return path


class Bus:
    def __init__(self) -> None:
        self.published: list[object] = []

    def publish(self, event_name: str, event: object, source: str | None = None) -> None:
        self.published.append(event)


def finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, list):
        return all(finite(v) for v in value)
    return True


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize("where", ["top", "nested"])
@pytest.mark.parametrize("kind", sorted(HUGE))
def test_an_instant_replay_refuses_a_number_past_the_float_range(
    tmp_path: Path, kind: str, where: str, suffix: str
) -> None:
    number = HUGE[kind]
    path = write(tmp_path, suffix, number if where == "top" else f'{{"q":[0,{{"r":{number}}}]}}')
    bus = Bus()
    with pytest.raises(CassetteError, match="finite") as caught:
        EventReplayer(path).replay(bus, speed_multiplier=math.inf)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert f"line {GOOD_EVENTS + 2}" in message, message
    assert "field 'event_data'" in message, message
    assert all(finite(payload) for payload in bus.published)
    assert len(bus.published) <= GOOD_EVENTS


@pytest.mark.parametrize("number", ["1e-400", "1e308", "0." + "0" * 400 + "1e400", "1" * 400])
def test_numbers_within_the_float_range_still_replay(tmp_path: Path, number: str) -> None:
    path = write(tmp_path, ".jsonl", number)
    bus = Bus()
    EventReplayer(path).replay(bus, speed_multiplier=math.inf)
    assert len(bus.published) == GOOD_EVENTS + 2
    expected = float(number) if "." in number or "e" in number else int(number)
    assert bus.published[GOOD_EVENTS] == expected


@pytest.mark.parametrize("text", [*HUGE.values(), "1e309", "-1E-0999", "9" * 200])
def test_the_prefilter_flags_every_number_the_standard_library_may_overflow(text: str) -> None:
    """The pre-filter may flag finite numbers (they are then checked), never miss one."""
    assert codec.may_overflow(f'{{"a":[{text}]}}'.encode())


def test_the_prefilter_lets_ordinary_numbers_through() -> None:
    assert not codec.may_overflow(line('{"p":67500.5,"q":1e+16,"r":1.5e-05,"s":-12}').encode())


def test_the_same_holds_with_the_standard_library_alone() -> None:
    blocked = "import sys; sys.modules['orjson'] = sys.modules['msgspec'] = None; "
    code = (
        "import pytest; from pytest_eventrecorder import codec; assert not codec.FAST; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist', "
        "'-k', 'not standard_library_alone', sys.argv[1]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked + code, __file__],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
