"""YAML cassettes written through libyaml come out byte for byte as PyYAML's Python dumper
writes them, and read back unchanged; documents libyaml would write differently, and PyYAML
without libyaml, take the Python dumper (the fallbacks are exercised here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_eventrecorder import yamlformat
from pytest_eventrecorder.cassette import Cassette, CassetteHeader, RecordedEvent
from pytest_eventrecorder.formats import read_cassette, write_cassette

# Text as recordings hold it, with the shapes the two emitters may treat differently: line
# breaks, spaces at the ends and around breaks, quotes and YAML indicators, words that read
# as other types, long words and long lines; half the documents also hold control and
# non-BMP characters (a document holding one is written by the Python dumper).
_PIECES = st.sampled_from(
    [
        *(" ", "  ", "\n", "\n\n", "a b c ", "x" * 30, "é" * 25, "- ", ": ", " #", "'", '"', "\\"),
        *("---", "...", "null", "true", "on", "~", "1e3", "0x1F", "1_000", ".inf", "2025-01-01"),
        *("\xa0", "<<", "?", "&a", "*a", "!", "%", "@", "`", "|", ">", "[]", "{}", ","),
    ]
)
_ODD_PIECES = st.sampled_from(
    ["\t", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "😀"]
)
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.characters(
    min_codepoint=0xA0, max_codepoint=0xFFFD, exclude_categories=("Cs",)
)
_ANY_CHAR = st.characters(exclude_categories=("Cs",))
_PLAIN_TEXT = st.lists(_PIECES | _PRINTABLE | _PRINTABLE, max_size=40).map("".join)
_ODD_TEXT = st.lists(_PIECES | _ODD_PIECES | _ANY_CHAR, max_size=40).map("".join)
_KEYS = _PLAIN_TEXT.filter(lambda key: key and "\n" not in key) | st.sampled_from(
    ["1", "true", "null", "1.5", "-", "a" * 122, "é" * 40]
)
# Python writes a key as "? key" past 122 characters, libyaml past 128 bytes
_ODD_KEYS = _ODD_TEXT | st.sampled_from(
    ["", "a\nb", "a" * 123, "a" * 129, "é" * 62, "é" * 65, "😀"]
)


def _documents(
    text: st.SearchStrategy[str], keys: st.SearchStrategy[str]
) -> st.SearchStrategy[dict[str, Any]]:
    scalars = (
        text
        | st.none()
        | st.booleans()
        | st.integers()
        | st.integers(-(10**40), 10**40)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from([0.0, -0.0, 1e16, 1e17, 1e-7, 1.5e300, 5e-324])
    )
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=20,
    )
    return st.dictionaries(keys, values, max_size=5)


_DOCUMENTS = _documents(_PLAIN_TEXT, _KEYS) | _documents(_PLAIN_TEXT | _ODD_TEXT, _KEYS | _ODD_KEYS)
_FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

needs_libyaml = pytest.mark.skipif(yamlformat._CEmitter is None, reason="PyYAML without libyaml")


@needs_libyaml
@_FUZZ
@given(_DOCUMENTS)
@example({"a" * 123: 1})
@example({"é" * 65: 1})
@example({"k": "word " * 20 + "\n end"})  # double-quoted (a break after a space), folded
def test_libyaml_writes_what_the_python_dumper_writes_or_hands_over(doc: dict[str, Any]) -> None:
    try:
        fast = yamlformat._CWriter().text(doc)
    except yamlformat._Unmatched:
        fast = None
    python = yamlformat.python_dump(doc)
    if fast is not None:
        assert fast == python
    assert yamlformat.dump(doc) == python


@_FUZZ
@given(_DOCUMENTS)
def test_a_written_document_reads_back_unchanged(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(yamlformat.dump(doc)) == doc


def _cassette(data: Any) -> Cassette:
    events = tuple(
        RecordedEvent(i * 0.5, "PriceTick", {"i": i, "p": 67_500.5 + i, "v": data}, "feed")
        for i in range(20)
    )
    return Cassette(CassetteHeader("y", "2025-10-17T10:00:00Z", metadata={"k": "v"}), events)


@needs_libyaml
def test_a_typical_cassette_is_written_by_libyaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = _cassette({"text": "BTC/USDT", "note": "a\nb", "é": [1, None, True, 1e-7]})
    python = tmp_path / "python.yaml"
    write_cassette(python, cassette)

    def refuse(doc: Any) -> str:
        raise AssertionError("the Python dumper was used")

    monkeypatch.setattr(yamlformat, "python_dump", refuse)
    fast = tmp_path / "fast.yaml"
    write_cassette(fast, cassette)
    assert fast.read_bytes() == python.read_bytes()


@pytest.mark.parametrize("odd", ["tab\there", "😀", "", "trailing \n space"])
def test_a_value_libyaml_writes_differently_takes_the_python_dumper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd: str
) -> None:
    cassette = _cassette({odd: odd})
    used: list[object] = []
    real = yamlformat.python_dump

    def spy(doc: Any) -> str:
        used.append(doc)
        return real(doc)

    monkeypatch.setattr(yamlformat, "python_dump", spy)
    path = tmp_path / "c.yaml"
    write_cassette(path, cassette)
    assert len(used) == 1
    assert read_cassette(path).events == cassette.events


def test_without_libyaml_the_python_dumper_writes_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = _cassette({"text": "x: y", "n": [1, 2.5, None]})
    fast = tmp_path / "fast.yaml"
    write_cassette(fast, cassette)
    monkeypatch.setattr(yamlformat, "_CEmitter", None)  # PyYAML built without libyaml
    python = tmp_path / "python.yaml"
    write_cassette(python, cassette)
    assert python.read_bytes() == fast.read_bytes()
    assert read_cassette(python).events == cassette.events


# --------------------------------------------------------------------------- reading

_TEXTS = [
    "a: &x [1, 2]\nb: *x\nc: {<<: {k: 1}, j: 2}\n",  # alias, merge key
    "a: &x {k: v}\nb: [*x, *x]\n=: 1\n",  # '=' is a value key, read as a string
    "t: 2025-01-01\nu: 2025-01-01 10:00:00Z\nf: .inf\ng: 1_000.5\nh: 0x1F\ni: 190:20:30\n",
    "s: !!str 5\nb: !!binary aGk=\nn: !!float '1'\nset: !!set {x}\np: !!omap [a: 1]\n",
    "a: &x [*x]\n",  # an alias inside its own anchor
    "? [1]\n: 2\n",  # a key that is not a scalar: refused
    "a: null\nb: ~\nc:\nd: yes\ne: 'yes'\nf: \"1.5\"\n",
]


@needs_libyaml
@pytest.mark.parametrize("text", _TEXTS)
def test_the_c_loader_reads_what_safe_load_reads(text: str) -> None:
    assert _read(text, yamlformat.SAFE_LOADER) == _read(text, yaml.SafeLoader)


@needs_libyaml
@_FUZZ
@given(_DOCUMENTS)
def test_the_c_loader_reads_any_written_document_as_safe_load(doc: dict[str, Any]) -> None:
    text = yamlformat.python_dump(doc)
    assert yaml.load(text, Loader=yamlformat.SAFE_LOADER) == yaml.safe_load(text)


def _read(text: str, loader: Any) -> object:
    try:
        value = yaml.load(text, Loader=loader)  # safe loaders only
    except yaml.YAMLError as exc:
        return f"{type(exc).__name__}: {exc.problem if hasattr(exc, 'problem') else exc}"
    return repr(value)  # an alias inside its own anchor holds itself: repr shows that


def test_the_yaml_benchmark_runs_in_quick_mode(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_yaml.py"
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows] == ["| operation", "| write", "| read"]
    assert list(tmp_path.iterdir()) == []  # scratch files live in a temporary folder
