"""``python -m devhost functions``: run a Python v2-model function app with Durable Functions on SQLite.

Programmatic use (``devhost up``, tests)::

    host = await serve(HostConfig(app_root=Path("."), port=0, data_dir=tmp))
    ... host.base_url ...
    await host.close()
"""

from devhost.functions.config import HostConfig, HostJson
from devhost.functions.errors import AppLoadError, ConfigError, FunctionsHostError
from devhost.functions.keys import HostKeys
from devhost.functions.server import PortInUseError, RunningHost, serve

__all__ = [
    "AppLoadError",
    "ConfigError",
    "FunctionsHostError",
    "HostConfig",
    "HostJson",
    "HostKeys",
    "PortInUseError",
    "RunningHost",
    "serve",
]
