"""Unit tests for option merging, record modes and cassette names."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from pytest_eventrecorder.cassette import RecordedEvent
from pytest_eventrecorder.pytest_plugin.options import (
    OPTION_NAMES,
    RECORD_MODES,
    Layer,
    OptionsError,
    check_speed,
    merge_options,
)
from pytest_eventrecorder.pytest_plugin.session import (
    MAX_NAME,
    cassette_path,
    default_cassette_name,
    rerecord_command,
)


def merged(*layers: dict[str, Any], ci: bool = False) -> Any:
    return merge_options([Layer(f"layer{i}", v) for i, v in enumerate(layers)], ci=ci)


def test_later_layers_win_key_by_key() -> None:
    options = merged(
        {"bus": "ini_bus", "record_mode": "none"},
        {"record_mode": "once", "inputs": ["A"], "speed": 2},
        {"inputs": ["B"]},
    )
    assert (options.bus, options.record_mode, options.inputs, options.speed) == (
        "ini_bus",
        "once",
        ("B",),
        2.0,
    )


def test_redactions_add_up_across_layers() -> None:
    """A marker can hide more than its conftest, never less: secrets stay out of cassettes."""
    options = merged(
        {"redact": ["api_key"], "ignore_fields": ["ts"]},
        {"redact": ["account.*", "api_key"], "ignore_fields": ["id"]},
    )
    assert options.redact == ("api_key", "account.*")
    assert options.ignore_fields == ("id",)  # other options: the closest layer wins


def test_defaults() -> None:
    options = merged()
    assert options.record_mode == "once"
    assert options.speed == math.inf
    assert options.inputs is None
    assert options.bus == "service_bus"
    assert options.ordered == "per_source"
    assert merged({"ordered": True}).ordered == "global"  # the marker's True: one order


@pytest.mark.parametrize("mode", RECORD_MODES)
def test_every_record_mode_is_accepted(mode: str) -> None:
    assert merged({"record_mode": mode}).record_mode == ("all" if mode == "rewrite" else mode)


def test_cli_choices_are_the_record_modes(pytester: pytest.Pytester) -> None:
    for mode in RECORD_MODES:
        assert pytester.parseconfig(f"--record-mode={mode}").getoption("record_mode") == mode
    with pytest.raises(pytest.UsageError):
        pytester.parseconfig("--record-mode=sometimes")


def test_ci_changes_only_the_default_mode() -> None:
    assert merged(ci=True).record_mode == "none"
    assert merged({"record_mode": "once"}, ci=True).record_mode == "once"


def test_unknown_option_names_the_layer_and_suggests() -> None:
    with pytest.raises(
        OptionsError,
        match=r"layer0: unknown option 'ignore_field' \(did you mean "
        r"'ignore_fields'\?\); valid options are name, ",
    ):
        merged({"ignore_field": ["x"]})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("inputs", "PriceTick", "inputs must be a list of event names"),
        ("inputs", ["A", 3], "every input must be a non-empty event name"),
        ("speed", 0, "speed must be a positive number"),
        ("speed", True, "speed must be a positive number"),
        ("ordered", "yes", "ordered must be 'per_source' .the default., 'global'"),
        ("match_on", ["colour"], "unknown field"),
        ("redact", "api_key", "redact must be a list of dotted paths"),
        ("ignore_fields", ["a..b"], "empty segment"),
        ("bus", "", "must be a non-empty string"),
        ("before_record_event", 3, "must be a function"),
    ],
)
def test_bad_values_name_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(OptionsError, match=f"layer0: {key}=.* is not valid: .*{message}"):
        merged({key: value})


@pytest.mark.parametrize(
    ("text", "speed"), [("instant", math.inf), ("inf", math.inf), ("2", 2.0), ("0.5", 0.5)]
)
def test_speed_parsing(text: str, speed: float) -> None:
    assert check_speed(text) == speed


def test_inputs_select_by_name_or_predicate() -> None:
    tick = RecordedEvent(0.0, "PriceTick", {}, "feed")
    order = RecordedEvent(0.0, "OrderPlaced", {}, "bot")
    by_name = merged({"inputs": ["PriceTick"]})
    assert by_name.is_input(tick)
    assert not by_name.is_input(order)
    by_source = merged({"inputs": lambda e: e.source == "bot"})
    assert by_source.is_input(order)
    assert not by_source.is_input(tick)
    assert merged().is_input(order)
    assert not merged({"inputs": []}).is_input(tick)


def test_option_names_are_the_documented_ones() -> None:
    assert OPTION_NAMES == (
        "name",
        "bus",
        "record_mode",
        "inputs",
        "speed",
        "match_on",
        "ordered",
        "ignore_fields",
        "redact",
        "redact_keys",
        "before_record_event",
        "events_module",
        "clock",
        "matchers",
        "max_age",
        "max_latency_ms",
    )


def test_default_cassette_names() -> None:
    assert default_cassette_name("test_x") == "test_x.json"
    assert default_cassette_name("test_x[1-2.5,a=b+c]", "TestK") == "TestK.test_x[1-2.5,a=b+c].json"
    replaced = default_cassette_name("test_x[a/b c]", "TestK")
    assert replaced.startswith("TestK.test_x[a_b_c]-")  # and a hash of the real name
    long = default_cassette_name("test_" + "x" * 300)
    assert len(long) == MAX_NAME + len(".json")
    assert long != default_cassette_name("test_" + "x" * 299 + "y")


def test_ids_that_differ_only_in_replaced_characters_get_their_own_cassettes() -> None:
    names = {default_cassette_name(f"test_p[a{sep}b]") for sep in "/: _"}
    assert len(names) == 4


def test_cassette_paths(tmp_path: Path) -> None:
    assert cassette_path(tmp_path, "a") == tmp_path / "a.json"
    assert cassette_path(tmp_path, "sub/a.yaml") == tmp_path / "sub" / "a.yaml"
    assert cassette_path(tmp_path, "/abs/a.jsonl.gz") == Path("/abs/a.jsonl.gz")


def test_rerecord_command_quotes_the_node_id() -> None:
    assert rerecord_command("t.py::test[a b]") == "pytest 't.py::test[a b]' --record-mode=all"


def test_matchers_merge_path_by_path_and_are_checked() -> None:
    from pytest_eventrecorder.matchers import approx, ignore

    options = merged({"matchers": {"a": approx(), "b": approx()}}, {"matchers": {"b": ignore()}})
    assert [(path, str(m)) for path, m in options.matchers] == [
        ("a", "approx rel=1e-06"),
        ("b", "ignore"),
    ]
    with pytest.raises(OptionsError, match=r"matchers=.* must be a dict of path -> matcher"):
        merged({"matchers": ["a"]})
    with pytest.raises(OptionsError, match="empty segment"):
        merged({"matchers": {"a..b": ignore()}})
