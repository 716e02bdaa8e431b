"""The OpenAPI document matches the routes exactly, and schemathesis finds no 5xx."""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings

from pytest_eventrecorder.server.openapi import openapi_document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every API rule in the app."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        found |= {(path, m.lower()) for m in rule.methods or () if m not in IGNORED_METHODS}
    return found


def described(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def test_the_document_describes_exactly_the_api_routes(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    assert described(doc) == routes(app)
    assert doc["openapi"].startswith("3.")
    assert "security" not in doc


def test_every_path_parameter_is_declared(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").get_json()
    for path, operations in doc["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == names, path


def test_every_seed_endpoint_is_there() -> None:
    seed = {
        ("/api/recordings", "get"),
        ("/api/recording/{filename}", "get"),
        ("/api/recording/{filename}/events", "get"),
        ("/api/recording/{filename}/fields", "get"),
        ("/api/recording/create", "post"),
        ("/api/record/start", "post"),
        ("/api/record/event", "post"),
        ("/api/record/stop", "post"),
        ("/api/record/status", "get"),
        ("/api/replay/start/{filename}", "post"),
        ("/api/replay/pause", "post"),
        ("/api/replay/stop", "post"),
        ("/api/replay/speed", "post"),
        ("/api/replay/status", "get"),
    }
    assert seed <= described(openapi_document(token_required=False))


def test_schemathesis_reads_the_document(app: Flask) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    labels = {op.ok().label for op in schema.get_all_operations()}
    # schemathesis leaves out the path it loaded the document from
    expected = {f"{m.upper()} {p}" for p, m in routes(app) if p != "/api/openapi.json"}
    assert labels == expected


def test_no_input_makes_the_api_fail(app: Flask) -> None:
    """Generated requests, valid and invalid alike, never get a 5xx or a non-JSON error."""
    # Driven through hypothesis directly: schemathesis's pytest integration relies on pytest
    # internals that newer pytest releases removed.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checked: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_5xx(case: Any) -> None:
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            if response.status_code >= 400:
                assert "error" in response.json()

        no_5xx()
        checked.append(operation.label)
    assert len(checked) >= 15
