"""The pages blueprint without a browser: token gate, headers, escaping, self-contained assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from pytest_eventrecorder.config import EventRecorderConfig
from pytest_eventrecorder.server import create_app
from pytest_eventrecorder.server.pages import CONTENT_SECURITY_POLICY

SERVER = Path(__file__).resolve().parents[2] / "pytest_eventrecorder" / "server"
STATIC = SERVER / "static"
TEMPLATES = SERVER / "templates"
PAGES = ["/", "/recording/some.json", "/compare?a=x.json&b=y.json"]


def client(tmp_path: Path, token: str | None = None) -> FlaskClient:
    return create_app(EventRecorderConfig(recordings_dir=tmp_path), token=token).test_client()


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_without_a_token_and_send_hardening_headers(tmp_path: Path, path: str) -> None:
    response = client(tmp_path).get(path)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert b'name="eventrecorder-token"' not in response.data


@pytest.mark.parametrize("path", PAGES)
def test_with_a_token_pages_need_it_in_the_query(tmp_path: Path, path: str) -> None:
    app = client(tmp_path, token="tok-123")
    for refused in (path, path + ("&" if "?" in path else "?") + "token=nope"):
        response = app.get(refused)
        assert response.status_code == 401
        assert b"Token required" in response.data
        assert b"tok-123" not in response.data
    granted = app.get(path + ("&" if "?" in path else "?") + "token=tok-123")
    assert granted.status_code == 200
    assert b'<meta name="eventrecorder-token" content="tok-123">' in granted.data


def test_names_in_the_url_are_escaped_into_the_page(tmp_path: Path) -> None:
    hostile = '"><script>alert(1)</script>.json'
    page = client(tmp_path).get("/recording/" + hostile).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.json" in page
    compare = client(tmp_path).get("/compare", query_string={"a": hostile}).get_data(as_text=True)
    assert "<script>alert(1)" not in compare


def test_assets_are_served_from_the_package(tmp_path: Path) -> None:
    app = client(tmp_path)
    for asset in sorted(STATIC.iterdir()):
        response = app.get(f"/assets/{asset.name}")
        assert response.status_code == 200, asset.name
        assert response.data == asset.read_bytes()


def test_scripts_never_turn_text_into_markup_or_code() -> None:
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"setAttribute\(\s*['\"]on|DOMParser|createContextualFragment"
    )
    for script in sorted(STATIC.glob("*.js")):
        found = sinks.findall(script.read_text(encoding="utf-8"))
        assert not found, f"{script.name} uses {found}"


def test_nothing_is_fetched_from_elsewhere_at_run_time() -> None:
    url = re.compile(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", re.IGNORECASE)
    allowed = {"http://www.w3.org"}  # XML namespace names, never fetched
    files = [*STATIC.iterdir(), *TEMPLATES.iterdir()]
    for path in files:
        text = path.read_text(encoding="utf-8")
        external = {m for m in url.findall(text) if m not in allowed and not m.startswith("//")}
        assert not external, f"{path.name} refers to {external}"


def test_templates_use_no_inline_script_or_style() -> None:
    """The Content-Security-Policy forbids them, so they would silently not work."""
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
