"""``python -m devhost dashboard``'s arguments: which key it adds, and clear errors for bad input."""

import json
from pathlib import Path

import pytest

from devhost.dashboard.cli import main, parse_args, settings_of
from devhost.dashboard.settings import DashboardError, DashboardSettings
from devhost.functions.keys import load_or_create


def settings(*argv: str, environ: dict[str, str] | None = None) -> DashboardSettings:
    return settings_of(parse_args(list(argv)), environ or {})


def test_a_local_hosts_system_key_is_read_from_its_data_dir(tmp_path: Path) -> None:
    keys = load_or_create(tmp_path / "functions")  # as `devhost up --data-dir tmp_path` keeps them
    found = settings("--data-dir", str(tmp_path))
    assert found.key == keys.durable_system_key
    assert found.key_source == f"the system key from {tmp_path.resolve()}"
    assert keys.durable_system_key not in repr(found)


def test_a_given_key_wins_and_a_remote_host_never_gets_the_local_key(tmp_path: Path) -> None:
    load_or_create(tmp_path)
    given = settings("--data-dir", str(tmp_path), "--key", "the master key")
    assert (given.key, given.key_source) == ("the master key", "the key given with --key")
    from_environment = settings("--data-dir", str(tmp_path), environ={"DurableApiKey": "a key kept out of argv"})
    assert (from_environment.key, from_environment.key_source) == ("a key kept out of argv", "the key in DurableApiKey")
    remote = settings("--data-dir", str(tmp_path), "--functions-url", "https://app.azurewebsites.net/")
    assert (remote.functions_url, remote.key, remote.key_source) == ("https://app.azurewebsites.net", "", "no key")


def test_without_a_keys_file_no_key_is_added_as_for_func_start(tmp_path: Path) -> None:
    assert settings("--data-dir", str(tmp_path)).key == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["--functions-url", "127.0.0.1:7071"], "--functions-url must be an http(s) URL, got '127.0.0.1:7071'"),
    (["--functions-url", "http://127.0.0.1:7071/api"],
     "--functions-url must be the host's base URL without a path or query (e.g. http://127.0.0.1:7071), got "
     "'http://127.0.0.1:7071/api'"),
    (["--host", "0.0.0.0"], "--host must be a loopback address (127.0.0.1, localhost or ::1), got '0.0.0.0': the "
                            "dashboard adds the Durable API key to what it forwards"),
])
def test_bad_arguments_are_named(argv: list[str], message: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DashboardError) as raised:
        settings("--data-dir", str(tmp_path), *argv)
    assert str(raised.value) == message
    assert main(["--data-dir", str(tmp_path), *argv]) == 2
    assert capsys.readouterr().err == f"devhost dashboard: {message}\n"


def test_an_unreadable_keys_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text(json.dumps(["not", "keys"]), encoding="utf-8")
    with pytest.raises(DashboardError) as raised:
        settings("--data-dir", str(tmp_path))
    assert str(raised.value) == f"{tmp_path / 'keys.json'}: expected a JSON object"
