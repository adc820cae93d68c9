"""``devhost up --bots N``: N bot parts on their own ports behind the HAProxy part on the bot port, one shared store,
and the banner says so."""

from pathlib import Path

import pytest

from devhost.balancer import config_text
from devhost.secrets import StackSecrets
from devhost.stack import StackConfig, StackError, plan
from devhost.up import banner, parse_args

SECRETS = StackSecrets(directline_secret="dl", signing_key="signing")


def test_two_bots_run_on_the_ports_after_the_bot_port_behind_the_balancer_on_one_store(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path, bot_port=4000, bots=2)
    parts = {part.name: part for part in plan(config, SECRETS)}
    assert list(parts) == ["functions", "directline", "bot-1", "bot-2", "balancer"]
    assert [parts[name].port for name in ("bot-1", "bot-2", "balancer")] == [4001, 4002, 4000]
    store = f"sqlite:{tmp_path / 'bot-state.sqlite'}"
    assert {parts[name].env["BotStateStore"] for name in ("bot-1", "bot-2")} == {store}
    assert parts["bot-2"].argv[-4:] == ["--host", "127.0.0.1", "--port", "4002"]
    assert parts["balancer"].argv[3:] == [
        "devhost", "balancer", "--host", "127.0.0.1", "--port", "4000",
        "--config", str(tmp_path / "balancer" / "haproxy.cfg"),
        "--server", "127.0.0.1:4001", "--server", "127.0.0.1:4002",
    ]
    assert parts["balancer"].ready_url == "http://127.0.0.1:4000/devhost/balancer/health"
    # Direct Line and the chat talk to the balancer, not to an instance.
    assert config.messages_url == "http://127.0.0.1:4000/api/messages"
    text = banner(config)
    assert ("  instances       2 bots behind HAProxy (round robin): bot-1 http://127.0.0.1:4001, "
            "bot-2 http://127.0.0.1:4002") in text
    assert f"  shared state    {store}   (conversation leases and outcome claims in it)" in text


def test_one_bot_is_the_bot_part_alone_and_the_banner_names_no_instances(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path)
    assert [part.name for part in plan(config, SECRETS)] == ["functions", "directline", "bot"]
    assert "  instances  " not in banner(config)


def test_several_bots_need_a_shared_store_and_a_sensible_count(tmp_path: Path) -> None:
    with pytest.raises(StackError) as memory:
        StackConfig(data_dir=tmp_path, bots=2, settings={"BotStateStore": "memory"})
    assert str(memory.value) == ("2 bot instances need a state store they share (sqlite:<path> or blob:<container>), "
                                 "not memory: each instance would keep its own")
    with pytest.raises(SystemExit):
        parse_args(["--bots", "0"])
    assert parse_args(["--bots", "3"]).bots == 3


def test_the_balancer_is_round_robin_with_health_checks_and_retries_only_failed_connections() -> None:
    text = config_text("127.0.0.1", 4000, ["127.0.0.1:4001", "127.0.0.1:4002"])
    for line in ("    bind 127.0.0.1:4000", "    balance roundrobin", "    option httpchk GET /api/health",
                 "    retry-on conn-failure", "    option redispatch 1",
                 "    server bot-1 127.0.0.1:4001 check", "    server bot-2 127.0.0.1:4002 check"):
        assert line in text.splitlines()
