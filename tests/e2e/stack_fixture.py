"""Start the whole offline system (functions host, Direct Line stand-in, bot) on free loopback ports."""

from collections.abc import Mapping
from pathlib import Path

from devhost.addresses import free_ports
from devhost.stack import StackConfig


def stack_config(data_dir: Path, settings: Mapping[str, str], *, auth: bool = False,
                 single_tenant: bool = False) -> StackConfig:
    """``auth``: Bot Framework authentication end to end, as ``devhost up --auth`` (``single_tenant``: SingleTenant)."""
    functions, bot, directline, identity = free_ports(4)
    return StackConfig(
        data_dir=data_dir,
        functions_port=functions,
        bot_port=bot,
        directline_port=directline,
        settings=dict(settings),
        log_dir=data_dir / "logs",
        identity_port=identity if auth else None,
        single_tenant=single_tenant,
    )
