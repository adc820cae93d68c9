"""The stack's plan and its log hints, without starting any part."""

import stat
from pathlib import Path

import pytest

from devhost.functions.keys import KEYS_FILE
from devhost.secrets import StackSecrets
from devhost.stack import StackConfig, log_tail, plan, stack_keys
from devhost.up import parse_args as up_args

SECRETS = StackSecrets(directline_secret="dl", signing_key="key")


def test_a_relative_data_dir_names_one_place_for_every_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The parts run with cwd=app_root; a relative path handed to them would land somewhere else than the secrets.
    monkeypatch.chdir(tmp_path)
    config = StackConfig(data_dir=Path("state"), app_root=tmp_path / "app", log_dir=Path("state/logs"))
    assert config.data_dir == tmp_path / "state"
    assert config.log_dir == tmp_path / "state" / "logs"
    parts = {part.name: part for part in plan(config, SECRETS)}
    functions_argv = parts["functions"].argv
    assert functions_argv[functions_argv.index("--data-dir") + 1] == str(tmp_path / "state" / "functions")
    assert parts["bot"].env["BotStateStore"] == f"sqlite:{tmp_path / 'state' / 'bot-state.sqlite'}"


def test_the_log_hint_is_the_last_lines_read_from_the_end(tmp_path: Path) -> None:
    log = tmp_path / "part.log"
    log.write_text("".join(f"line {n}\n" for n in range(10_000)), encoding="utf-8")
    assert log_tail(log, lines=3, max_bytes=100) == ["line 9997", "line 9998", "line 9999"]
    # A short log is read whole, first line included.
    log.write_text("first\nsecond\n", encoding="utf-8")
    assert log_tail(log, lines=20, max_bytes=100) == ["first", "second"]
    # A tail window shorter than the lines asked for gives only whole lines.
    log.write_text("".join(f"line {n}\n" for n in range(100)), encoding="utf-8")
    assert log_tail(log, lines=20, max_bytes=30) == ["line 97", "line 98", "line 99"]


def test_the_bot_gets_the_starters_own_key_and_the_functions_host_checks_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OperationsKey", "a key from the developer's shell")  # never handed to a part
    config = StackConfig(data_dir=tmp_path)
    keys = stack_keys(config)
    assert keys is not None
    path = tmp_path / "functions" / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stack_keys(config) == keys  # made once, then reused
    parts = {part.name: part for part in plan(config, SECRETS, keys)}
    assert parts["bot"].env["OperationsKey"] == keys.function_key("start_operation")
    assert "--no-key-check" not in parts["functions"].argv
    assert "OperationsKey" not in parts["functions"].env
    assert "OperationsKey" not in parts["directline"].env


def test_without_key_checks_the_functions_host_runs_with_the_off_switch_and_the_bot_has_no_key(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path, check_keys=False)
    assert stack_keys(config) is None
    parts = {part.name: part for part in plan(config, SECRETS, None)}
    assert parts["functions"].argv[-1] == "--no-key-check"
    assert parts["bot"].env["OperationsKey"] == ""
    assert not (tmp_path / "functions" / KEYS_FILE).exists()


def test_up_passes_its_throttle_to_the_direct_line_stand_in_and_refuses_a_bad_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = up_args(["--throttle", "7/1,60/30"])
    assert args.throttle == "7/1,60/30"
    parts = {part.name: part for part in plan(StackConfig(data_dir=tmp_path, throttle=args.throttle), SECRETS, None)}
    assert parts["directline"].argv[-2:] == ["--throttle", "7/1,60/30"]
    assert "--throttle" not in {part.name: part for part in plan(StackConfig(data_dir=tmp_path), SECRETS, None)
                                }["directline"].argv
    with pytest.raises(SystemExit) as exit_info:
        up_args(["--throttle", "lots"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.endswith(
        "error: --throttle 'lots': expected COUNT/SECONDS[,COUNT/SECONDS...] such as 1/1 or 7/1s,60/30s, got 'lots'\n")
