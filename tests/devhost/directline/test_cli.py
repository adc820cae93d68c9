"""``python -m devhost directline``: argument errors and a real process serving until SIGTERM."""

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from devhost.directline.cli import main

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_missing_secret_is_a_clear_error_and_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DirectLineSecret"}
    result = subprocess.run(
        [sys.executable, "-m", "devhost", "directline", "--port", "0"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 2
    assert "secret is required" in result.stderr


def test_non_http_bot_url_is_rejected() -> None:
    assert main(["--secret", "s", "--bot-url", "ftp://x"]) == 2


def test_process_serves_health_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "directline", "--port", "0", "--secret", "cli-secret",
         "--bot-url", "http://127.0.0.1:9/api/messages"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()  # blocks until the server listens (or the process dies: empty line)
        match = re.search(r"(http://127\.0\.0\.1:\d+/v3/directline)", banner)
        assert match, banner
        with urllib.request.urlopen(f"{match.group(1)}/health", timeout=10) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "cli-secret" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()  # reaps the process and closes its pipes


def test_an_out_of_range_port_is_a_usage_error_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("99999", "-1", "eighty"):
        with pytest.raises(SystemExit) as exit_info:
            main(["--secret", "s", "--port", bad])
        assert exit_info.value.code == 2
        assert "--port" in capsys.readouterr().err


def test_fault_flags_become_the_stand_ins_starting_faults_and_a_bad_one_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from devhost.directline.cli import config_from_args, parse_args

    config = config_from_args(parse_args(["--fault", "unavailable", "--fault", "throttledx2:3"]),
                              {"DirectLineSecret": "s"})
    assert config.faults == ({"kind": "unavailable", "count": 1, "after": 0},
                             {"kind": "throttled", "count": 2, "after": 0, "retry_after_seconds": 3.0})
    assert main(["--secret", "s", "--fault", "explode"]) == 2
    kinds = "unavailable, throttled, hang, gone, lost"
    assert f"--fault 'explode': the kind must be one of {kinds}" in capsys.readouterr().err


def test_the_auth_flags_go_together_and_a_missing_key_file_is_named(tmp_path: Path) -> None:
    from devhost.directline.cli import config_from_args, parse_args

    with pytest.raises(ValueError) as partial:
        config_from_args(parse_args(["--identity-url", "https://127.0.0.1:8182"]), {"DirectLineSecret": "s"})
    assert str(partial.value) == ("--identity-key-file, --bot-app-id are required with --identity-url (Bot Framework "
                                  "authentication)")
    missing = tmp_path / "identity-key.json"
    with pytest.raises(ValueError) as absent:
        config_from_args(parse_args(["--identity-url", "https://127.0.0.1:8182", "--identity-key-file", str(missing),
                                     "--bot-app-id", "app"]), {"DirectLineSecret": "s"})
    assert str(absent.value) == f"--identity-key-file {missing} does not exist (start devhost identity first)"
    assert config_from_args(parse_args([]), {"DirectLineSecret": "s"}).auth is None
