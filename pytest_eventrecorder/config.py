"""Configuration: :class:`EventRecorderConfig` and the ``devtools_config.yaml`` file.

The file may hold sections for other tools; only ``event_recorder:`` is read::

    event_recorder:
      recordings_dir: recordings   # relative to the file's folder
      port: 5556
      host: 127.0.0.1
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

SECTION = "event_recorder"
DEFAULT_CONFIG_FILE = "devtools_config.yaml"


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class EventRecorderConfig:
    """Where recordings live and where the dashboard listens."""

    recordings_dir: Path = field(default_factory=lambda: Path("recordings"))
    port: int = 5556
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if not isinstance(self.recordings_dir, str | os.PathLike) or not str(self.recordings_dir):
            raise ConfigError(f"recordings_dir must be a path, got {self.recordings_dir!r}")
        object.__setattr__(self, "recordings_dir", Path(self.recordings_dir))
        port = self.port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"port must be a whole number from 0 to 65535, got {self.port!r}")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"host must be a non-empty string, got {self.host!r}")

    def with_overrides(self, **overrides: Any) -> EventRecorderConfig:
        """A copy with the given (non-``None``) values replaced: command-line options win."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EventRecorderConfig:
        """Read the ``event_recorder:`` section of a YAML file (a relative ``recordings_dir``
        is taken from the file's folder)."""
        p = Path(path)
        raw = _load_yaml(p)
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError(f"{p}: the file must hold a mapping of sections, like '{SECTION}:'")
        section = raw.get(SECTION)
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(f"{p}: {SECTION!r} must be a mapping of settings")
        return cls._from_section(section, p)

    @classmethod
    def _from_section(cls, section: dict[Any, Any], path: Path) -> EventRecorderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in section if k not in known)
        if unknown:
            raise ConfigError(
                f"{path}: unknown key {SECTION}.{unknown[0]} (known: {', '.join(sorted(known))})"
            )
        values = dict(section)
        if "recordings_dir" in values:
            rd = values["recordings_dir"]
            if not isinstance(rd, str) or not rd:
                raise ConfigError(
                    f"{path}: {SECTION}.recordings_dir must be a path string, got {rd!r}"
                )
            values["recordings_dir"] = path.parent / Path(rd).expanduser()
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {SECTION}.{exc}") from None


def load_config(
    path: str | os.PathLike[str] | None = None, *, search_dir: str | os.PathLike[str] = "."
) -> EventRecorderConfig:
    """The settings from ``path``; without one, from ``devtools_config.yaml`` in
    ``search_dir`` when that file exists, else the defaults."""
    if path is not None:
        return EventRecorderConfig.from_file(path)
    candidate = Path(search_dir) / DEFAULT_CONFIG_FILE
    if candidate.is_file():
        return EventRecorderConfig.from_file(candidate)
    return EventRecorderConfig()


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"{path}: cannot read configuration: {reason}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = f"line {exc.problem_mark.line + 1}: " if exc.problem_mark is not None else ""
        raise ConfigError(f"{path}: {line}not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
