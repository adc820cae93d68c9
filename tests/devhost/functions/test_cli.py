"""``python -m devhost functions`` start-up errors: a clear message and a non-zero exit."""

import socket
from pathlib import Path

from tests.devhost.functions.hosting import APPS
from tests.devhost.functions.processes import run_cli


def test_missing_function_app_is_reported(tmp_path: Path) -> None:
    result = run_cli("--app-root", str(tmp_path), "--data-dir", str(tmp_path / "d"), "--port", "0")
    assert result.returncode == 1
    assert "No function app found" in result.stderr and "function_app.py does not exist" in result.stderr


def test_import_error_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("--app-root", str(APPS / "broken_import"), "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "Error importing" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: configuration missing: BROKEN_SETTING" in result.stderr


def test_two_function_apps_are_rejected(tmp_path: Path) -> None:
    result = run_cli("--app-root", str(APPS / "two_apps"), "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "More than one function app instance" in result.stderr


def test_a_script_without_an_app_instance_is_rejected(tmp_path: Path) -> None:
    result = run_cli("--app-root", str(APPS / "no_app_instance"), "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "Could not find top level function app instances" in result.stderr


def test_port_in_use_is_reported(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("--app-root", str(APPS / "crash"), "--data-dir", str(tmp_path), "--port", str(port))
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is unavailable" in result.stderr


def test_bad_arguments_exit_with_usage(tmp_path: Path) -> None:
    result = run_cli("--port", "99999")
    assert result.returncode == 2
    assert "--port 99999 is not a port number" in result.stderr
