"""Per-data-dir secrets of the offline stack: generated once, private, and overridable from the environment."""

import stat
from pathlib import Path

from devhost.secrets import load_or_create


def test_secrets_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, environ={})
    again = load_or_create(tmp_path, environ={})
    assert first == again
    assert first.directline_secret and first.signing_key
    assert first.directline_secret != first.signing_key
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600


def test_environment_values_win_over_stored_ones(tmp_path: Path) -> None:
    stored = load_or_create(tmp_path, environ={})
    pinned = load_or_create(tmp_path, environ={"DirectLineSecret": "mine", "OperationSigningKey": "key"})
    assert (pinned.directline_secret, pinned.signing_key) == ("mine", "key")
    assert load_or_create(tmp_path, environ={}) == stored


def test_a_damaged_entry_is_regenerated(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"DirectLineSecret": "", "OperationSigningKey": 5}', encoding="utf-8")
    secrets = load_or_create(tmp_path, environ={})
    assert secrets.directline_secret and isinstance(secrets.signing_key, str) and secrets.signing_key
