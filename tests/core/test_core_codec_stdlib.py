"""Without the ``[fast]`` extra: the codec, reader and writer tests pass with orjson blocked,
and the files written either way are byte for byte the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_core_codec import SUFFIXES, write_every_format

from pytest_eventrecorder import codec

HERE = Path(__file__).parent
BLOCKED = "import sys; sys.modules['orjson'] = sys.modules['msgspec'] = None; "


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED + code, *args],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=300,
    )


def test_reader_and_writer_tests_pass_with_the_standard_library_alone() -> None:
    modules = [
        "test_core_codec.py",
        "test_core_formats.py",
        "test_core_fast_paths.py",
        "test_core_json_pieces.py",
        "test_core_jsonl_lines.py",
        "test_core_read_rows.py",
    ]
    code = (
        "import pytest; from pytest_eventrecorder import codec; assert not codec.FAST; "
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist', *sys.argv[1:]]))"
    )
    done = _python(code, *(str(HERE / m) for m in modules))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


@pytest.mark.skipif(not codec.FAST, reason="the [fast] extra (orjson) is not installed")
def test_files_are_byte_identical_with_and_without_the_extra(tmp_path: Path) -> None:
    fast, plain = tmp_path / "fast", tmp_path / "plain"
    fast.mkdir()
    plain.mkdir()
    write_every_format(fast)
    code = "sys.path.insert(0, ''); from test_core_codec import write_every_format as w; "
    done = _python(code + "import pathlib; w(pathlib.Path(sys.argv[1]))", str(plain))
    assert done.returncode == 0, done.stderr[-2000:]
    for suffix in SUFFIXES:
        assert (fast / f"c{suffix}").read_bytes() == (plain / f"c{suffix}").read_bytes(), suffix
