"""How commands show recorded data on a terminal: escaped text, durations, sizes, JSON."""

from __future__ import annotations

import json


def json_text(value: object) -> str:
    """Indented JSON for ``--json``; a lone surrogate in recorded text (no UTF-8 form) is
    written as its ``\\udXXX`` escape, as cassettes write it."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shown(text: str) -> str:
    """Recorded text made safe for a terminal: control characters appear escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def human_ms(ms: float) -> str:
    """A duration, always to the microsecond (as ``timeline`` shows offsets):
    ``0.870 ms``, ``1.900 ms``, ``12.500 s``, ``1:02:03.000 (3,723,000.000 ms)``."""
    if ms < 1000:
        return f"{ms:.3f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{seconds:06.3f} ({ms:,.3f} ms)"


def plural(count: int, word: str) -> str:
    """``1 event``, ``2 events``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
