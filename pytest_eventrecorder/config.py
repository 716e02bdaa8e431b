"""Configuration: :class:`EventRecorderConfig` and the ``devtools_config.yaml`` file."""

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
        object.__setattr__(self, "recordings_dir", Path(self.recordings_dir))
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be a whole number from 0 to 65535, got {self.port!r}")
        if not isinstance(self.host, str) or not self.host:
            raise ConfigError(f"host must be a non-empty string, got {self.host!r}")

    def with_overrides(self, **overrides: Any) -> EventRecorderConfig:
        """A copy with the given (non-``None``) values replaced: command-line options win."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EventRecorderConfig:
        """Read the ``event_recorder:`` section of a YAML file (relative dirs are taken from
        the file's folder)."""
        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: configuration file not found") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{p}: cannot read configuration: {exc}") from None
        section = raw.get(SECTION, {}) if isinstance(raw, dict) else None
        if section is None:
            section = {}
        if not isinstance(section, dict):
            raise ConfigError(f"{p}: {SECTION!r} must be a mapping of settings")
        return cls._from_section(section, p)

    @classmethod
    def _from_section(cls, section: dict[str, Any], path: Path) -> EventRecorderConfig:
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
                raise ConfigError(f"{path}: {SECTION}.recordings_dir must be a path string, got {rd!r}")
            values["recordings_dir"] = path.parent / rd
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {SECTION}.{exc}") from None
