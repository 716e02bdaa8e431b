"""``devtools_config.yaml`` and :class:`EventRecorderConfig`."""

from __future__ import annotations

from pathlib import Path

import pytest

import pytest_eventrecorder
from pytest_eventrecorder.config import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    EventRecorderConfig,
    load_config,
)


def write(folder: Path, text: str, name: str = DEFAULT_CONFIG_FILE) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_seed() -> None:
    config = EventRecorderConfig()
    assert config.recordings_dir == Path("recordings")
    assert config.port == 5556
    assert config.host == "127.0.0.1"


def test_importable_from_the_package_root() -> None:
    assert pytest_eventrecorder.EventRecorderConfig is EventRecorderConfig
    assert pytest_eventrecorder.ConfigError is ConfigError


def test_seed_style_construction_takes_a_path_or_a_string() -> None:
    assert EventRecorderConfig(recordings_dir="recs", port=5557).recordings_dir == Path("recs")


def test_the_seed_example_file(tmp_path: Path) -> None:
    path = write(tmp_path, "event_recorder:\n  recordings_dir: recordings\n  port: 5556\n")
    config = EventRecorderConfig.from_file(path)
    assert config == EventRecorderConfig(recordings_dir=tmp_path / "recordings", port=5556)


def test_other_sections_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "event_flow:\n  anything: [1, 2]\nevent_recorder:\n  host: 0.0.0.0\n")
    assert EventRecorderConfig.from_file(path).host == "0.0.0.0"


def test_relative_dirs_are_taken_from_the_file_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "event_recorder:\n  recordings_dir: ../shared/recs\n")
    assert EventRecorderConfig.from_file(path).recordings_dir == tmp_path / "../shared/recs"


def test_absolute_and_home_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = write(tmp_path, "event_recorder:\n  recordings_dir: ~/recs\n")
    assert EventRecorderConfig.from_file(path).recordings_dir == tmp_path / "home" / "recs"
    path = write(tmp_path, f"event_recorder:\n  recordings_dir: {tmp_path / 'abs'}\n")
    assert EventRecorderConfig.from_file(path).recordings_dir == tmp_path / "abs"


@pytest.mark.parametrize("text", ["", "# nothing\n", "other: 1\n", "event_recorder:\n"])
def test_empty_or_absent_section_gives_defaults(tmp_path: Path, text: str) -> None:
    assert EventRecorderConfig.from_file(write(tmp_path, text)) == EventRecorderConfig()


SECTION = "event_recorder:\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            SECTION + "  prot: 5556\n",
            "unknown key event_recorder.prot (known: host, port, recordings_dir)",
        ),
        (
            SECTION + "  port: '5556'\n",
            "event_recorder.port must be a whole number from 0 to 65535",
        ),
        (SECTION + "  port: 70000\n", "event_recorder.port must be a whole number"),
        (SECTION + "  port: true\n", "event_recorder.port must be a whole number"),
        (SECTION + "  port: 5556.5\n", "event_recorder.port must be a whole number"),
        (SECTION + "  host: ''\n", "event_recorder.host must be a non-empty string"),
        (SECTION + "  host: 8080\n", "event_recorder.host must be a non-empty string, got 8080"),
        (
            SECTION + "  recordings_dir: 5\n",
            "event_recorder.recordings_dir must be a path string, got 5",
        ),
        (
            SECTION + "  recordings_dir: [a]\n",
            "event_recorder.recordings_dir must be a path string",
        ),
        ("event_recorder: [1, 2]\n", "'event_recorder' must be a mapping of settings"),
        ("- event_recorder\n", "the file must hold a mapping of sections"),
        (SECTION + "  port: [\n", "line 3: not valid YAML"),
        ("event_recorder:\n\tport: 1\n", "not valid YAML"),
    ],
)
def test_bad_files_name_the_file_and_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        EventRecorderConfig.from_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert fragment in message
    assert "\n" not in message


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        EventRecorderConfig.from_file(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="cannot read configuration"):
        EventRecorderConfig.from_file(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes(b"event_recorder:\n  host: \xff\n")
    with pytest.raises(ConfigError, match="cannot read configuration"):
        EventRecorderConfig.from_file(tmp_path / "latin1.yaml")


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"port": -1}, "port must be"),
        ({"port": "5556"}, "port must be"),
        ({"host": None}, "host must be"),
        ({"recordings_dir": 5}, "recordings_dir must be a path"),
        ({"recordings_dir": ""}, "recordings_dir must be a path"),
    ],
)
def test_constructor_checks_values(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        EventRecorderConfig(**kwargs)  # type: ignore[arg-type]


def test_overrides_win_and_none_keeps_the_value() -> None:
    base = EventRecorderConfig(port=6000, host="0.0.0.0")
    config = base.with_overrides(port=7000, host=None, recordings_dir=Path("x"))
    assert (config.port, config.host, config.recordings_dir) == (7000, "0.0.0.0", Path("x"))
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        base.with_overrides(colour="red")
    with pytest.raises(ConfigError, match="port must be"):
        base.with_overrides(port=99999)


def test_load_config_finds_the_default_file(tmp_path: Path) -> None:
    assert load_config(search_dir=tmp_path) == EventRecorderConfig()
    write(tmp_path, "event_recorder:\n  port: 6001\n")
    assert load_config(search_dir=tmp_path).port == 6001
    other = write(tmp_path, "event_recorder:\n  port: 6002\n", name="other.yaml")
    assert load_config(other, search_dir=tmp_path).port == 6002
