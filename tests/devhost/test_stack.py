"""The stack's plan and its log hints, without starting any part."""

from pathlib import Path

import pytest

from devhost.secrets import StackSecrets
from devhost.stack import StackConfig, log_tail, plan

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
