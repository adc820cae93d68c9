"""Which key a client of the Durable HTTP API sends: one given, else a host on this machine's own system key.

That API takes the durabletask system key or the master key (devhost/functions/auth.py). ``func start`` checks no
keys; Azure and ``devhost functions`` do. Shared by ``devhost instances`` and ``devhost dashboard``.
"""

from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from devhost.functions.errors import ConfigError
from devhost.functions.keys import KEYS_FILE, read_keys

LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})


class DurableKeyError(Exception):
    """The keys file that should hold the system key cannot be read."""


def durable_key(key: str, functions_url: str, data_dir: Path) -> str:
    """``key`` when given, else the local host's system key from its keys file in ``data_dir``, else "" (a host that
    checks no keys, like `func start`). A local file's key never goes to a host on another machine."""
    if key:
        return key
    if urlsplit(functions_url).hostname not in LOOPBACK:
        return ""
    # `devhost functions --data-dir D` keeps D/keys.json; `devhost up --data-dir D` runs it with D/functions.
    for path in (data_dir / KEYS_FILE, data_dir / "functions" / KEYS_FILE):
        if path.exists():
            try:
                return read_keys(path).durable_system_key
            except ConfigError as error:
                raise DurableKeyError(str(error)) from None
    return ""
