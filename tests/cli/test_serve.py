"""``serve`` and the seed's ``pubsub-tools event-recorder``: settings from file and options."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import ClassVar

import pytest
from cli_samples import Invoke, one_error_line
from click.testing import CliRunner

import pytest_eventrecorder.server as server_module
from pytest_eventrecorder.cli import pubsub_tools, serve
from pytest_eventrecorder.config import EventRecorderConfig


class FakeServer:
    """Stands in for the dashboard: remembers how it was made and that it ran."""

    made: ClassVar[list[FakeServer]] = []

    def __init__(
        self,
        config: EventRecorderConfig,
        token: str | None = None,
        *,
        allow_no_token: bool = False,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        self.config, self.token, self.ran = config, token, False
        self.allow_no_token, self.allowed_hosts = allow_no_token, allowed_hosts
        FakeServer.made.append(self)

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    def run(self) -> None:
        self.ran = True


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[FakeServer]:
    """Run in an empty folder with the fake dashboard; yields the servers made."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EVENTRECORDER_TOKEN", raising=False)
    monkeypatch.setattr(server_module, "EventRecorderServer", FakeServer)
    FakeServer.made = []
    return FakeServer.made


def only(servers: list[FakeServer]) -> FakeServer:
    assert len(servers) == 1
    assert servers[0].ran
    return servers[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_defaults(cli: Invoke, served: list[FakeServer]) -> None:
    result = cli("serve")
    assert result.exit_code == 0, result.output
    server = only(served)
    assert server.config == EventRecorderConfig()
    assert server.token is None
    assert "dashboard for recordings at http://127.0.0.1:5556/ (Ctrl+C stops)" in result.stderr
    assert "warning: recordings does not exist yet" in result.stderr


def test_serve_reads_devtools_config_yaml_from_the_current_folder(
    cli: Invoke, served: list[FakeServer], tmp_path: Path
) -> None:
    (tmp_path / "recs").mkdir()
    (tmp_path / "devtools_config.yaml").write_text(
        "event_recorder:\n  recordings_dir: recs\n  port: 6001\n  host: 0.0.0.0\n"
    )
    result = cli("serve", env={"EVENTRECORDER_TOKEN": "t"})
    assert result.exit_code == 0, result.output
    assert "using settings from ./devtools_config.yaml" in result.stderr
    assert "warning" not in result.stderr
    config = only(served).config
    assert (config.recordings_dir, config.port, config.host) == (Path("recs"), 6001, "0.0.0.0")


def test_serve_options_override_the_file(
    cli: Invoke, served: list[FakeServer], tmp_path: Path
) -> None:
    conf = tmp_path / "conf" / "custom.yaml"
    conf.parent.mkdir()
    conf.write_text("event_recorder:\n  recordings_dir: data\n  port: 6001\n  host: 0.0.0.0\n")
    result = cli(
        "serve",
        *("--config", conf, "--port", "6002", "--recordings-dir", "elsewhere"),
        env={"EVENTRECORDER_TOKEN": "t"},
    )
    assert result.exit_code == 0, result.output
    config = only(served).config
    assert config.port == 6002
    assert config.host == "0.0.0.0"
    assert config.recordings_dir == Path("elsewhere")
    assert "using settings" not in result.stderr


def test_serve_token_from_option_or_environment(cli: Invoke, served: list[FakeServer]) -> None:
    result = cli("serve", "--token", "s3cret", "--port", "5999")
    assert served[-1].token == "s3cret"
    assert "s3cret" not in result.stderr
    assert "http://127.0.0.1:5999/ (open it with ?token=<your token>)" in result.stderr
    assert "warning: --token is visible to other users of this machine" in result.stderr
    result = cli("serve", env={"EVENTRECORDER_TOKEN": "from-env"})
    assert served[-1].token == "from-env"
    assert "warning" not in result.stderr.replace("warning: recordings does not exist", "")


def test_serve_token_from_a_file(cli: Invoke, served: list[FakeServer], tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file\n")
    result = cli("serve", "--token-file", "token")
    assert result.exit_code == 0, result.output
    assert served[-1].token == "from-file"
    assert "from-file" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--token-file", "missing"], {}, "missing: cannot read the token file"),
        (["--token-file", "empty"], {}, "empty: the token file is empty"),
        (["--token-file", "token", "--token", "x"], {}, "--token or --token-file, not both"),
        (
            ["--token-file", "token"],
            {"EVENTRECORDER_TOKEN": "x"},
            "$EVENTRECORDER_TOKEN or --token-file, not both",
        ),
    ],
)
def test_serve_bad_token_sources(
    cli: Invoke,
    served: list[FakeServer],
    tmp_path: Path,
    args: list[str],
    env: dict[str, str],
    fragment: str,
) -> None:
    (tmp_path / "token").write_text("t\n")
    (tmp_path / "empty").write_text("\n")
    result = cli("serve", *args, env=env)
    assert result.exit_code == 2
    assert fragment in one_error_line(result)
    assert served == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "dash.example"])
def test_serve_refuses_an_exposed_host_without_a_token(
    cli: Invoke, served: list[FakeServer], host: str
) -> None:
    result = cli("serve", "--host", host)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"Error: refusing to serve on {host} without a token")
    assert "--insecure-no-token" in line
    assert served == []


def test_serve_insecure_no_token_is_explicit(cli: Invoke, served: list[FakeServer]) -> None:
    result = cli("serve", "--host", "0.0.0.0", "--insecure-no-token", "--allow-host", "dash")
    assert result.exit_code == 0, result.output
    server = only(served)
    assert (server.token, server.allow_no_token, server.allowed_hosts) == (None, True, ("dash",))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("event_recorder:\n  prot: 1\n", "unknown key event_recorder.prot"),
        ("event_recorder:\n  port: high\n", "event_recorder.port must be a whole number"),
        ("event_recorder:\n  recordings_dir: 7\n", "event_recorder.recordings_dir must be a path"),
        ("event_recorder: [\n", "not valid YAML"),
    ],
)
def test_serve_bad_config_is_one_clear_line(
    cli: Invoke, served: list[FakeServer], tmp_path: Path, text: str, fragment: str
) -> None:
    (tmp_path / "devtools_config.yaml").write_text(text)
    result = cli("serve")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("Error: devtools_config.yaml: ")
    assert fragment in line
    assert served == []


def test_serve_missing_config_file(cli: Invoke, served: list[FakeServer], tmp_path: Path) -> None:
    result = cli("serve", "--config", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line == f"Error: {tmp_path / 'nope.yaml'}: configuration file not found"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "70000"], "70000 is not in the range 0<=x<=65535"),
        (["--port", "http"], "'http' is not a valid integer"),
        (["--recordings-dir", "devtools_config.yaml"], "is a file"),
        (["--unknown"], "No such option '--unknown'"),
    ],
)
def test_serve_bad_options(
    cli: Invoke, served: list[FakeServer], tmp_path: Path, args: list[str], fragment: str
) -> None:
    (tmp_path / "devtools_config.yaml").write_text("")
    result = cli("serve", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert served == []


def test_serve_empty_host(cli: Invoke, served: list[FakeServer]) -> None:
    result = cli("serve", "--host", "")
    assert result.exit_code == 2
    assert one_error_line(result) == "Error: host must be a non-empty string, got ''"


def test_serve_port_in_use_is_one_clear_line(cli: Invoke, served: list[FakeServer]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert line.endswith("; choose another --port")
    assert served == []


def test_pubsub_tools_event_recorder_is_an_alias(served: list[FakeServer], tmp_path: Path) -> None:
    conf = tmp_path / "devtools_config.yaml"
    conf.write_text("event_recorder:\n  recordings_dir: recordings\n  port: 5557\n")
    runner = CliRunner()
    result = runner.invoke(pubsub_tools, ["event-recorder", "--config", str(conf)])
    assert result.exit_code == 0, result.output
    assert only(served).config.port == 5557
    bad = runner.invoke(pubsub_tools, ["event-recorder", "--config", str(tmp_path / "x.yaml")])
    assert bad.exit_code == 2
    assert "configuration file not found" in one_error_line(bad)


def test_serve_recorder_module_takes_the_seed_options(served: list[FakeServer]) -> None:
    port = free_port()
    result = CliRunner().invoke(serve, ["--recordings-dir", "./recordings", "--port", str(port)])
    assert result.exit_code == 0, result.output
    assert only(served).config.port == port
