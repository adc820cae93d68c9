"""Start the whole offline system (functions host, Direct Line stand-in, bot) on free loopback ports."""

import socket
from collections.abc import Mapping
from pathlib import Path

from devhost.stack import StackConfig


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stack_config(data_dir: Path, settings: Mapping[str, str], *, auth: bool = False,
                 single_tenant: bool = False) -> StackConfig:
    """``auth``: Bot Framework authentication end to end, as ``devhost up --auth`` (``single_tenant``: SingleTenant)."""
    return StackConfig(
        data_dir=data_dir,
        functions_port=free_port(),
        bot_port=free_port(),
        directline_port=free_port(),
        settings=dict(settings),
        log_dir=data_dir / "logs",
        identity_port=free_port() if auth else None,
        single_tenant=single_tenant,
    )
