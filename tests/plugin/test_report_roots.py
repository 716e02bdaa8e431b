"""The summary's review hint works when pending cassettes lie inside and outside the project."""

from __future__ import annotations

from pytest_eventrecorder.pytest_plugin.report import _review_roots


def test_relative_and_absolute_pending_paths_get_one_hint_each() -> None:
    assert _review_roots(["a/b/x.pending.json", "/tmp/e.pending.json"]) == [
        "a/b/x.pending.json",
        "/tmp/e.pending.json",
    ]
    assert _review_roots(["a/b/x.pending.json", "a/c/y.pending.json"]) == ["a"]
