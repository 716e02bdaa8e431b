"""Credential redaction in the plugin: on by default, off or extended per test."""

from __future__ import annotations

import json

import pytest

TEST_FILE = '''
import pytest


class Bus:
    def publish(self, event_name, event, source=None):
        pass


@pytest.fixture
def service_bus():
    return Bus()


EVENT = {"user": "bob", "api_token": "xyz", "ssn": "123-45", "Authorization": "Bearer q"}


@pytest.mark.event_cassette
def test_default(service_bus, event_cassette):
    service_bus.publish("Login", EVENT, "web")


@pytest.mark.event_cassette(redact_keys=["ssn"])
def test_extended(service_bus, event_cassette):
    service_bus.publish("Login", EVENT, "web")


@pytest.mark.event_cassette(redact_keys=False)
def test_off(service_bus, event_cassette):
    service_bus.publish("Login", EVENT, "web")


@pytest.mark.event_cassette(redact_keys="ssn")
def test_bad(service_bus, event_cassette):
    service_bus.publish("Login", EVENT, "web")
'''


def test_redact_keys_turns_redaction_off_or_extends_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_login=TEST_FILE)
    first = pytester.runpytest("-p", "no:cacheprovider")
    first.assert_outcomes(passed=3, errors=1)
    first.stdout.fnmatch_lines(["*redact_keys*must be True, False, or a list of key words*"])

    def data(name: str) -> dict[str, str]:
        path = pytester.path / "cassettes" / "test_login" / f"{name}.json"
        event = json.loads(path.read_text())["events"][0]
        return dict(event["event_data"])

    hidden = "[REDACTED]"
    assert data("test_default") == {
        "user": "bob", "api_token": hidden, "ssn": "123-45", "Authorization": hidden
    }
    assert data("test_extended")["ssn"] == hidden
    assert data("test_extended")["api_token"] == hidden
    assert data("test_off") == {
        "user": "bob", "api_token": "xyz", "ssn": "123-45", "Authorization": "Bearer q"
    }
    again = pytester.runpytest("-p", "no:cacheprovider", "-k", "not bad")
    again.assert_outcomes(passed=3)
