"""The dashboard as a part of ``devhost up``: started on loopback, reading the functions host's keys file itself,
and named in the banner."""

from pathlib import Path

import pytest

from devhost.secrets import StackSecrets
from devhost.stack import StackConfig, plan, stack_keys
from devhost.up import banner, parse_args

SECRETS = StackSecrets(directline_secret="dl", signing_key="signing")


def test_the_dashboard_part_reads_the_hosts_keys_file_over_loopback_and_holds_no_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DurableApiKey", "a key for another host, in the developer's shell")
    config = StackConfig(data_dir=tmp_path, host="0.0.0.0", functions_port=7100, dashboard_port=7200)
    keys = stack_keys(config)
    assert keys is not None
    parts = {part.name: part for part in plan(config, SECRETS, keys)}
    dashboard = parts["dashboard"]
    # Started through devhost.tether, as every part is.
    assert dashboard.argv[1:] == ["-m", "devhost.tether", "devhost", "dashboard", "--functions-url", "http://127.0.0.1:7100",
                                  "--data-dir", str(tmp_path / "functions"), "--port", "7200"]
    assert dashboard.ready_url == "http://127.0.0.1:7200/health"
    secrets = {keys.master, keys.durable_system_key, SECRETS.directline_secret, SECRETS.signing_key}
    assert not secrets & {*dashboard.argv, *dashboard.env.values()}
    assert "DurableApiKey" not in dashboard.env


def test_without_a_dashboard_port_there_is_no_dashboard(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path)
    assert [part.name for part in plan(config, SECRETS)] == ["functions", "directline", "bot"]
    assert "  dashboard  " not in banner(config)


def test_devhost_up_starts_it_on_7072_and_the_banner_links_it(tmp_path: Path) -> None:
    assert parse_args([]).dashboard_port == 7072
    text = banner(StackConfig(data_dir=tmp_path, dashboard_port=7072))
    assert "  dashboard       http://127.0.0.1:7072/   (orchestrations, progress, history; in a browser)" in text
