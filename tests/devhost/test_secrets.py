"""Per-data-dir secrets of the offline stack: generated once, private, and overridable from the environment."""

import stat
import uuid
from pathlib import Path

import pytest

from devhost.secrets import SecretsError, load_or_create
from devhost.up import main as up_main


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


def test_an_unreadable_secrets_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SecretsError, match=r"secrets\.json is not readable JSON"):
        load_or_create(tmp_path, environ={})


def test_up_reports_an_unreadable_secrets_file_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "secrets.json").write_text("{not json", encoding="utf-8")
    assert up_main(["--data-dir", str(tmp_path)]) == 1
    assert "secrets.json is not readable JSON" in capsys.readouterr().err


def test_the_app_registration_is_made_once_with_azures_shapes_only_when_asked(tmp_path: Path) -> None:
    plain = load_or_create(tmp_path, environ={})
    assert (plain.app_id, plain.app_password, plain.app_tenant_id) == ("", "", "")
    registered = load_or_create(tmp_path, environ={}, app_registration=True)
    assert str(uuid.UUID(registered.app_id)) == registered.app_id and len(registered.app_password) == 40
    assert registered.app_tenant_id == ""
    single = load_or_create(tmp_path, environ={}, app_registration=True, single_tenant=True)
    assert (single.app_id, single.app_password) == (registered.app_id, registered.app_password)
    assert str(uuid.UUID(single.app_tenant_id)) == single.app_tenant_id
    assert load_or_create(tmp_path, environ={}, app_registration=True, single_tenant=True) == single
    assert registered.app_password not in repr(registered)
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
