"""Configuration: the command line (HostConfig) and the app's host.json (HostJson), each parsed once."""

import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from devhost.durable.timefmt import parse_timespan
from devhost.functions.errors import ConfigError

DEFAULT_HUB = "TestHubName"


@dataclass(frozen=True)
class HostConfig:
    app_root: Path
    host: str = "127.0.0.1"
    port: int = 7071
    data_dir: Path = Path(".devhost")
    # Threads for sync HTTP functions and activities (the Python worker's thread pool).
    worker_threads: int = 16
    # Check function, host, master and system keys as Azure does (keys in <data_dir>/keys.json); off is what
    # `func start` does locally.
    check_keys: bool = True
    # Answered back by GET /devhost/health so ``devhost up`` knows it reached this process (devhost/part_identity.py).
    part_nonce: str = ""


@dataclass(frozen=True)
class HostJson:
    route_prefix: str = "api"
    hub_name: str = DEFAULT_HUB
    function_timeout: timedelta | None = None
    # durableTask.tracing: distributedTracingEnabled with version V2 carries the start request's trace context to
    # the orchestration and its activities (devhost/durable/trace_context.py); otherwise each activity's
    # invocation starts a trace of its own, as on Azure (TelemetryActivator.Initialize, TraceOptions).
    distributed_tracing: bool = False

    @classmethod
    def load(cls, app_root: Path) -> "HostJson":
        """Read host.json (absent = defaults). ``%Setting%`` in hubName is resolved from the environment."""
        path = app_root / "host.json"
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object")
        extensions = _object(data.get("extensions"), f"{path}: extensions")
        http = _object(extensions.get("http"), f"{path}: extensions.http")
        durable = _object(extensions.get("durableTask"), f"{path}: extensions.durableTask")
        prefix = http.get("routePrefix", "api")
        if not isinstance(prefix, str):
            raise ConfigError(f"{path}: extensions.http.routePrefix must be a string")
        hub = durable.get("hubName") or os.environ.get("WEBSITE_SITE_NAME") or DEFAULT_HUB
        if not isinstance(hub, str):
            raise ConfigError(f"{path}: extensions.durableTask.hubName must be a string")
        hub = re.sub(r"%([^%]+)%", lambda m: os.environ.get(m.group(1), ""), hub)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,44}", hub):
            raise ConfigError(f"{path}: task hub name {hub!r} must be 3-45 letters or digits, starting with a letter")
        timeout: timedelta | None = None
        raw_timeout = data.get("functionTimeout")
        if raw_timeout not in (None, "", "-1"):
            try:
                timeout = parse_timespan(str(raw_timeout))
            except (ValueError, OverflowError):
                raise ConfigError(f"{path}: functionTimeout {raw_timeout!r} is not a TimeSpan like 00:05:00") from None
            # A zero or negative limit would fail every activity the moment it starts.
            if timeout <= timedelta(0):
                raise ConfigError(f"{path}: functionTimeout {raw_timeout!r} must be a positive TimeSpan like 00:05:00 "
                                  "(or -1 for no limit)")
        return cls(prefix.strip("/"), hub, timeout, _distributed_tracing(durable, f"{path}: extensions.durableTask"))


def _distributed_tracing(durable: dict[str, Any], where: str) -> bool:
    tracing = _object(durable.get("tracing"), f"{where}.tracing")
    enabled = tracing.get("distributedTracingEnabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.tracing.distributedTracingEnabled must be true or false")
    # TraceOptions.Version, a DurableDistributedTracingVersion (None, V1, V2; default V1), bound ignoring case.
    version = tracing.get("version", "V1")
    if not isinstance(version, str) or version.lower() not in ("none", "v1", "v2"):
        raise ConfigError(f"{where}.tracing.version must be one of None, V1, V2, got {version!r}")
    return enabled and version.lower() == "v2"


def load_local_settings(app_root: Path) -> None:
    """Put local.settings.json Values into os.environ, never overriding what is already set."""
    path = app_root / "local.settings.json"
    if not path.exists():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    values = _object(data.get("Values") if isinstance(data, dict) else None, f"{path}: Values")
    for name, value in values.items():
        if name not in os.environ and value is not None:
            os.environ[name] = str(value)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a JSON object")
    return value
