"""``python -m devhost functions`` start-up errors: a clear message and a non-zero exit."""

import asyncio
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devhost.functions import FunctionsHostError, HostConfig, serve
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


_ROUTE_APP = '''
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route={route!r})
def bad(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("never served")
'''


def _app_with_route(root: Path, route: str, script: str = "function_app.py") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / script).write_text(_ROUTE_APP.format(route=route), encoding="utf-8")
    return root


def _assert_clean_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_a_catch_all_that_is_not_the_last_segment_is_reported(tmp_path: Path) -> None:
    root = _app_with_route(tmp_path / "app", "a/{*rest}/b")
    result = run_cli("--app-root", str(root), "--data-dir", str(tmp_path / "d"), "--port", "0")
    _assert_clean_failure(result, "route 'a/{*rest}/b': a catch-all must be the last segment")


def test_a_route_parameter_named_twice_is_reported(tmp_path: Path) -> None:
    root = _app_with_route(tmp_path / "app", "a/{x}/{x}")
    result = run_cli("--app-root", str(root), "--data-dir", str(tmp_path / "d"), "--port", "0")
    _assert_clean_failure(result, "route 'a/{x}/{x}': the parameter {x} appears more than once")


def test_the_script_named_in_local_settings_is_the_one_loaded(tmp_path: Path) -> None:
    # PYTHON_SCRIPT_FILE_NAME from local.settings.json picks the script; its bad route proves it was imported.
    root = _app_with_route(tmp_path / "app", "from/{main}/{main}", script="main_app.py")
    (root / "local.settings.json").write_text('{"Values": {"PYTHON_SCRIPT_FILE_NAME": "main_app.py"}}')
    result = run_cli("--app-root", str(root), "--data-dir", str(tmp_path / "d"), "--port", "0")
    _assert_clean_failure(result, "route 'from/{main}/{main}'")


@pytest.mark.parametrize("timeout", ["00:00:inf", "99999999999:00:00", "-00:00:05", "00:00:00"])
def test_an_unusable_function_timeout_is_reported(tmp_path: Path, timeout: str) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "functionTimeout": timeout}))
    result = run_cli("--app-root", str(tmp_path), "--data-dir", str(tmp_path / "d"), "--port", "0")
    _assert_clean_failure(result, f"functionTimeout {timeout!r}")


def test_a_data_dir_that_is_a_file_is_reported(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-a-dir"
    data_dir.write_text("a file")
    result = run_cli("--app-root", str(APPS / "crash"), "--data-dir", str(data_dir), "--port", "0")
    # The keys come first: they are made before the task hub is opened.
    _assert_clean_failure(result, f"Cannot keep the host's keys in {data_dir / 'keys.json'}", f"--data-dir {data_dir}")
    result = run_cli("--app-root", str(APPS / "crash"), "--data-dir", str(data_dir), "--port", "0", "--no-key-check")
    _assert_clean_failure(result, "Cannot open the task hub", f"--data-dir {data_dir}")


def test_a_corrupt_task_hub_database_is_reported(tmp_path: Path) -> None:
    (tmp_path / "TestHubName.sqlite").write_bytes(b"this is not an SQLite database" * 100)
    result = run_cli("--app-root", str(APPS / "crash"), "--data-dir", str(tmp_path), "--port", "0")
    _assert_clean_failure(result, f"Cannot open the task hub {tmp_path / 'TestHubName.sqlite'}",
                          "file is not a database")


def test_a_task_hub_that_cannot_be_opened_leaves_no_threads_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-a-dir"
    data_dir.write_text("a file")
    saved_path = list(sys.path)
    before = set(threading.enumerate())
    try:
        with pytest.raises(FunctionsHostError, match="Cannot open the task hub"):
            asyncio.run(serve(HostConfig(app_root=APPS / "crash", port=0, data_dir=data_dir, check_keys=False)))
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("function_app", None)
    assert [t.name for t in set(threading.enumerate()) - before] == []
