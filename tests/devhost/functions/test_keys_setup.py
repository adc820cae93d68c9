"""The functions host's keys: made once per data directory (0600) and reused, the off switch.

Each test runs a host of its own, so not beside test_keys.py's module host: the SDK's client keeps one aiohttp session
per process, on the loop of the host that used it first.
"""

import json
import stat
from pathlib import Path

import pytest

from devhost.functions.errors import ConfigError
from devhost.functions.keys import KEYS_FILE, load_or_create, read_keys
from tests.devhost.functions.hosting import APPS, HostThread
from tests.devhost.functions.test_keys import API, LISTING, send


def test_with_the_off_switch_nothing_is_checked_and_no_keys_are_made(tmp_path: Path) -> None:
    running = HostThread(APPS / "keys", tmp_path, check_keys=False)
    try:
        assert running.host.keys is None
        assert send(running, "GET", "/api/guarded") == (200, "guarded")
        assert send(running, "GET", "/api/admin-only") == (200, "admin")
        assert send(running, "GET", LISTING)[0] == 200
        # (The Durable API's own start: the SDK's client keeps one session for the process, on the module host's loop.)
        status, text = send(running, "POST", f"{API}/orchestrators/waiter")
        assert status == 202, text
        assert "code=" not in json.loads(text)["statusQueryGetUri"]
    finally:
        running.close()
    assert not (tmp_path / KEYS_FILE).exists()


def test_the_keys_file_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, ["start_operation"])
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    made = path.stat().st_mtime_ns
    assert load_or_create(tmp_path, ["START_OPERATION"]) == first  # function names compare case-insensitively
    assert path.stat().st_mtime_ns == made  # nothing new, nothing written
    # A function seen for the first time gets a key of its own; every other key stays.
    grown = load_or_create(tmp_path, ["start_operation", "another"])
    assert (grown.master, grown.host_key, grown.durable_system_key) == (first.master, first.host_key,
                                                                       first.durable_system_key)
    assert grown.function_key("start_operation") == first.function_key("start_operation")
    assert grown.function_key("another") not in {first.master, first.host_key, first.durable_system_key,
                                                 first.function_key("start_operation")}
    assert read_keys(path) == grown
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_restarted_host_checks_the_same_keys(tmp_path: Path) -> None:
    first = HostThread(APPS / "keys", tmp_path)
    try:
        keys = first.keys
    finally:
        first.close()
    again = HostThread(APPS / "keys", tmp_path)
    try:
        assert again.keys == keys
        assert send(again, "GET", "/api/guarded", header=keys.function_key("guarded")) == (200, "guarded")
    finally:
        again.close()


def test_an_unreadable_keys_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / KEYS_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"keys\.json is not readable JSON"):
        load_or_create(tmp_path)
    (tmp_path / KEYS_FILE).write_text('{"systemKeys": {"durabletask_extension": 5}}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"keys\.json: systemKeys must map key names to non-empty strings"):
        load_or_create(tmp_path)
