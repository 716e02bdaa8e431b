"""The examples/trading_bot suite replays from its committed cassettes, and catches a change."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "trading_bot"
CASSETTES = ROOT / "cassettes" / "trading_bot"


def fingerprint() -> dict[str, str]:
    return {
        str(p.relative_to(CASSETTES)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(CASSETTES.rglob("*.json"))
    }


def run_example(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The example suite, writing nothing: a failed replay's pending cassette would land in
    the repository's cassette folder."""
    return pytester.runpytest_inprocess(
        str(EXAMPLE),
        "--record-mode=none",
        "--event-cassettes-pending=no",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(EXAMPLE),
        *args,
    )


def test_cassettes_are_committed() -> None:
    assert set(fingerprint()) == {
        "test_bot/test_buys_the_dip_and_takes_profit.json",
        "test_bot/test_daily_report_golden_master.json",
        "test_bot/test_each_symbol[ETH].json",
        "test_bot/test_each_symbol[FLAT].json",
        "test_bot/test_fills_within_slippage.json",
    }


def test_example_suite_replays_and_passes(pytester: pytest.Pytester) -> None:
    before = fingerprint()
    result = run_example(pytester)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["event cassettes: record mode none (--record-mode), replay speed instant"]
    )
    assert fingerprint() == before


def test_example_suite_fails_readably_when_the_bot_changes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint()
    monkeypatch.setenv("TRADING_BOT_STRATEGY", "aggressive")
    result = run_example(pytester)
    result.assert_outcomes(passed=1, failed=4)
    result.stdout.fnmatch_lines(
        [
            "*_ test_buys_the_dip_and_takes_profit _*",
            "6 event differences from cassette */test_buys_the_dip_and_takes_profit.json (6 *",
            "(field lines read: recorded != actual)",
            "  [1] changed 'OrderPlaced' from source 'trading_bot' (recorded #0, now #0)",
            "      event_data.qty: 1 != 2",
            "*event_data.pnl: 3.2 != 6.4",
            "If the new behaviour is intended, re-record with: pytest "
            "*tests/test_bot.py::test_buys_the_dip_and_takes_profit --record-mode=all",
        ]
    )
    assert fingerprint() == before


def test_example_prices_pass_within_slippage_and_a_changed_bot_reports_causes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fingerprint()
    monkeypatch.setenv("TRADING_BOT_SLIPPAGE", "0.0005")
    run_example(pytester, "-k", "slippage").assert_outcomes(passed=1)  # approx(rel=1e-3)
    monkeypatch.setenv("TRADING_BOT_SLIPPAGE", "0.01")
    result = run_example(pytester, "-k", "slippage")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*event_data.price: 95.0 != 95.95 (approx rel=0.001)"])
    monkeypatch.delenv("TRADING_BOT_SLIPPAGE")
    monkeypatch.setenv("TRADING_BOT_STRATEGY", "aggressive")
    result = run_example(pytester, "-k", "slippage")
    result.stdout.fnmatch_lines(
        [
            "*_ test_fills_within_slippage _*",
            "*missing 'OrderPlaced' from source 'trading_bot': recorded #* was not published",
            "*input #* 'PriceTick' used to cause 'OrderPlaced' (recorded #*); it now causes *",
        ]
    )
    assert fingerprint() == before
