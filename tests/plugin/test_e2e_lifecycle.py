"""End-to-end: a cassette's life in a suite. The end-of-run summary, unused cassettes, pending
cassettes written by a failed replay (and reviewed with the CLI), stale cassettes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_e2e import Runner, cassette_file, live_calls, write_test

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
TWO_TESTS = """
    import pytest
    from busapp import live_feed


    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_a(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.mark.event_cassette(inputs=["PriceTick"], ignore_fields=["order_id"])
    def test_b(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))
"""


def summary(result: pytest.RunResult) -> str:
    out = result.stdout.str()
    assert "event cassettes summary" in out, out
    return out[out.index("event cassettes summary") :]


def test_the_summary_counts_lists_and_points_at_the_review(
    run: Runner, project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TWO_TESTS)
    first = run()
    first.assert_outcomes(passed=2)
    text = summary(first)
    assert "2 recorded, 0 replayed, 0 appended, 0 failed, 0 unused" in text
    assert "2 new cassette files (-v lists them)" in text

    orphan = cassette_file(project, "test_gone")
    shutil.copy(cassette_file(project, "test_a"), orphan)
    monkeypatch.setenv("BOT_ID_PREFIX", "x")  # test_a's orders change; test_b ignores it
    second = run("-v")
    second.assert_outcomes(passed=1, failed=1)
    text = summary(second)
    assert "0 recorded, 1 replayed, 0 appended, 1 failed, 1 unused, 1 pending" in text
    assert "unused: cassettes/test_bot/test_gone.json" in text
    assert "pending: cassettes/test_bot/test_a.pending.json" in text
    assert "review them with: eventrecorder review cassettes" in text
    assert orphan.exists()  # warn (the default) only lists it
    assert cassette_file(project, "test_a.pending").is_file()
    out = second.stdout.str()
    lines = [line for line in out.splitlines() if line.strip()]
    tail = lines[lines.index(next(x for x in lines if "re-record with: pytest" in x)) :]
    assert "eventrecorder review cassettes/test_bot/test_a.pending.json" in tail[1]
    assert "--record-mode=all" in tail[0]

    third = run("-v", "--event-cassettes-unused=delete", "--record-mode=all")
    third.assert_outcomes(passed=2)
    text = summary(third)
    assert "2 recorded, 0 replayed, 0 appended, 0 failed, 1 unused" in text
    assert "changed: cassettes/test_bot/test_a.json" in text
    assert "deleted unused: cassettes/test_bot/test_gone.json" in text
    assert not orphan.exists()


def test_a_session_without_cassettes_shows_no_summary(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, "def test_plain():\n    pass\n")
    assert "event cassettes summary" not in run_inprocess().stdout.str()


PARAMS = """
    import pytest
    from busapp import live_feed


    @pytest.mark.parametrize("n", {params})
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_p(service_bus, bot, event_cassette, n):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.mark.skip(reason="not today")
    @pytest.mark.event_cassette(inputs=["PriceTick"])
    def test_skipped(service_bus, bot, event_cassette):
        pass


    @pytest.mark.event_cassette("../test_other/shared", inputs=["PriceTick"])
    def test_shared(service_bus, bot, event_cassette):
        event_cassette.play(live=lambda: live_feed(service_bus))


    @pytest.mark.event_cassette("../test_other/by_class", inputs=["PriceTick"])
    class TestNamedOnTheClass:
        @pytest.mark.event_cassette(speed=1000)
        @pytest.mark.skip(reason="not today")
        def test_it(self, service_bus, bot, event_cassette):
            pass
"""


def test_unused_cassettes_are_judged_only_from_what_the_run_could_know(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, PARAMS.format(params=[1, 2]))
    write_test(project, "def test_plain():\n    pass\n", name="test_other")
    run_inprocess().assert_outcomes(passed=4, skipped=2)
    folder = project.path / "cassettes"
    copies = ("test_bot/test_skipped", "test_gone/test_x", "test_bot/test_renamed")
    for name in (*copies, "test_other/by_class"):
        (folder / f"{name}.json").parent.mkdir(exist_ok=True)
        shutil.copy(folder / "test_bot/test_p[1].json", folder / f"{name}.json")
    shutil.copy(folder / "test_bot/test_p[1].json", folder / "test_bot/test_p[1].pending.json")
    write_test(project, PARAMS.format(params=[1, 3]))  # the id [2] became [3]

    whole = run_inprocess()
    whole.assert_outcomes(passed=4, skipped=2)
    text = summary(whole)
    unused = sorted(x.split(": ", 1)[1] for x in text.splitlines() if x.startswith("unused: "))
    assert unused == [
        "cassettes/test_bot/test_p[2].json",
        "cassettes/test_bot/test_renamed.json",
        "cassettes/test_gone/test_x.json",
    ]
    assert "(--event-cassettes-unused=delete removes them)" in text
    assert "pending: cassettes/test_bot/test_p[1].pending.json" in text  # left by an earlier run

    narrowed_runs = (
        ["-k", "test_p"],
        ["test_bot.py::test_shared"],
        ["-m", "not slow"],
        ["--deselect", "test_bot.py::test_shared"],
        ["--co"],
    )
    for narrowed in narrowed_runs:
        assert "unused: " not in run_inprocess(*narrowed).stdout.str(), narrowed
    one_file = run_inprocess("test_bot.py")  # the whole module: its folder, not the others
    unused = [x for x in summary(one_file).splitlines() if x.startswith("unused: ")]
    assert sorted(unused) == [
        "unused: cassettes/test_bot/test_p[2].json",
        "unused: cassettes/test_bot/test_renamed.json",
    ]

    failing = run_inprocess("--event-cassettes-unused=fail")
    failing.assert_outcomes(passed=4, skipped=2)
    assert failing.ret == pytest.ExitCode.TESTS_FAILED
    assert "3 unused cassettes fail the run (--event-cassettes-unused=fail)" in failing.stdout.str()


def test_bad_lifecycle_options_are_usage_errors(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    write_test(project, TWO_TESTS)
    result = run_inprocess("--event-cassettes-unused=maybe")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--event-cassettes-unused*invalid choice*maybe*"])


def review(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_eventrecorder", "review", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_a_failed_replay_leaves_a_pending_cassette_that_review_accepts(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TWO_TESTS)
    run_inprocess().assert_outcomes(passed=2)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("BOT_ID_PREFIX", "x")

    quiet = run_inprocess("--event-cassettes-pending=no")
    quiet.assert_outcomes(passed=1, failed=1)
    assert list(project.path.rglob("*.pending.*")) == []

    run_inprocess().assert_outcomes(passed=1, failed=1)  # CI: record mode none, still written
    pending = cassette_file(project, "test_a.pending")
    assert pending.is_file()
    listed = review("--list", cwd=project.path)
    assert listed.returncode == 1
    assert listed.stdout.splitlines() == ["cassettes/test_bot/test_a.pending.json"]

    accepted = review("--accept-all", "cassettes", cwd=project.path)
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted: cassettes/test_bot/test_a.json" in accepted.stdout
    assert not pending.exists()
    run_inprocess().assert_outcomes(passed=2)  # the accepted run replays as it ran
    assert review("--list", cwd=project.path).returncode == 0
    assert live_calls(project) == 2


def test_a_pending_cassette_is_never_replayed(
    project: pytest.Pytester, run_inprocess: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_test(project, TWO_TESTS)
    run_inprocess().assert_outcomes(passed=2)
    recorded = cassette_file(project, "test_a")
    shutil.move(recorded, cassette_file(project, "test_a.pending"))
    result = run_inprocess("--record-mode=none")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*no cassette at cassettes/test_bot/test_a.json*"])


def age_cassette(path: Path, start_time: str) -> None:
    data = json.loads(path.read_text())
    data["start_time"] = start_time
    path.write_text(json.dumps(data))


def test_stale_cassettes_are_flagged_failed_or_rerecorded(
    project: pytest.Pytester, run_inprocess: Runner
) -> None:
    aged = 'inputs=["PriceTick"], max_age="30d")'
    write_test(project, TWO_TESTS.replace('inputs=["PriceTick"])', aged, 1))
    run_inprocess().assert_outcomes(passed=2)
    age_cassette(cassette_file(project, "test_a"), "2020-01-01T00:00:00Z")
    age_cassette(cassette_file(project, "test_b"), "2020-01-01T00:00:00Z")  # no max_age

    flagged = run_inprocess()
    flagged.assert_outcomes(passed=2)
    text = summary(flagged)
    assert "1 stale" in text
    why = "(recorded 2020-01-01T00:00:00Z, max_age 30d)"
    assert f"stale: cassettes/test_bot/test_a.json {why}" in text
    failing = run_inprocess("--event-cassettes-stale=fail")
    assert failing.ret == pytest.ExitCode.TESTS_FAILED

    project.makeini(f"{INI}event_recorder_max_age = 12h\n")
    run_inprocess("--event-cassettes-stale=rerecord").assert_outcomes(passed=2)
    assert live_calls(project) == 4  # both stale now (the ini applies to test_b): re-recorded
    fresh = json.loads(cassette_file(project, "test_a").read_text())["start_time"]
    assert not fresh.startswith("2020")
    assert "stale" not in summary(run_inprocess()).split("\n", 2)[1]


@pytest.mark.parametrize("bad", ["30x", "-1d", "", "d"])
def test_a_bad_max_age_is_a_clear_error(
    project: pytest.Pytester, run_inprocess: Runner, bad: str
) -> None:
    project.makeini(f"{INI}event_recorder_max_age = {bad or 'soon'}\n")
    write_test(project, TWO_TESTS)
    result = run_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*event_recorder_max_age*must be a number followed by d, h, m or s*"]
    )


REVIEW_KEYS = textwrap.dedent("""
    import os, pty, sys, time
    pid, fd = pty.fork()
    if pid == 0:
        command = [sys.executable, "-m", "pytest_eventrecorder", "review", "cassettes"]
        os.execvp(sys.executable, command)
    out = b""
    for key in sys.argv[1]:
        time.sleep(0.5)
        os.write(fd, key.encode())
    time.sleep(1.0)
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))
""")


def qty(path: Path) -> object:
    return json.loads(path.read_text())["events"][2]["event_data"]["qty"]


def test_review_asks_in_a_real_terminal(project: pytest.Pytester) -> None:
    write_test(project, TWO_TESTS)
    project.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    for name in ("test_a", "test_b"):
        data = json.loads(cassette_file(project, name).read_text())
        data["events"][2]["event_data"]["qty"] = 5
        cassette_file(project, f"{name}.pending").write_text(json.dumps(data))
    script = project.path / "keys.py"
    script.write_text(REVIEW_KEYS)
    done = subprocess.run(
        [sys.executable, str(script), "ar"], capture_output=True, text=True, cwd=project.path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "event_data.qty: 1 != 5" in done.stdout
    assert "[a]ccept [r]eject [s]kip [A]ccept the rest [q]uit" in done.stdout
    assert qty(cassette_file(project, "test_a")) == 5
    assert qty(cassette_file(project, "test_b")) == 1
    assert list(project.path.rglob("*.pending.*")) == []
