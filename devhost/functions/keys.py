"""The host's keys, as the Functions host keeps them in its secrets store: one master key, host keys, system keys
and a key per function.

Azure's host generates them once and keeps them (``SecretManager`` in Azure/azure-functions-host,
src/WebJobs.Script.WebHost/Security/KeyManagement/SecretManager.cs: ``masterKey``, ``functionKeys``, ``systemKeys``
in the host's secrets, a ``default`` key in each function's). This host keeps them in ``<data dir>/keys.json``
(mode 0600), made the first time and reused, so a restarted host (and ``devhost up``, which hands the starter's key
to the bot) finds the same keys.
"""

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from devhost.functions.errors import ConfigError

KEYS_FILE: Final = "keys.json"
# ScriptConstants.DefaultMasterKeyName and DefaultFunctionKeyName in azure-functions-host.
MASTER_KEY_NAME: Final = "_master"
DEFAULT_KEY_NAME: Final = "default"
# DefaultScriptWebHookProvider.GetKeyName: "<extensionName>_extension", lower case; the Durable webhooks'
# extension name is "durabletask".
DURABLE_SYSTEM_KEY_NAME: Final = "durabletask_extension"


@dataclass(frozen=True)
class HostKeys:
    master: str
    # name -> value; ``default`` opens any function of authLevel function.
    host_keys: dict[str, str]
    # name -> value; ``durabletask_extension`` opens the Durable webhooks.
    system_keys: dict[str, str]
    # function name -> (key name -> value); a function key opens only its function.
    function_keys: dict[str, dict[str, str]]

    @property
    def durable_system_key(self) -> str:
        return self.system_keys[DURABLE_SYSTEM_KEY_NAME]

    @property
    def host_key(self) -> str:
        return self.host_keys[DEFAULT_KEY_NAME]

    def function_key(self, function_name: str) -> str:
        """The ``default`` key of one function (function names compare case-insensitively, as the host's do)."""
        for name, keys in self.function_keys.items():
            if name.lower() == function_name.lower():
                return keys[DEFAULT_KEY_NAME]
        raise KeyError(f"no key for function {function_name!r}")

    def __repr__(self) -> str:
        # Keys never reach logs, even through a repr in a traceback.
        return f"HostKeys(functions={sorted(self.function_keys)})"


def _new_key() -> str:
    # The host's keys are 40+ random characters (SecretManager.GenerateSecret); the exact alphabet does not matter.
    return secrets.token_urlsafe(40)


def _names(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                              for k, v in value.items()):
        raise ConfigError(f"{where} must map key names to non-empty strings")
    return dict(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path} is not readable JSON ({error}); fix or delete it (new keys are then made, and "
                          "clients holding the old ones get 401)") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def _parse(path: Path, data: dict[str, Any]) -> HostKeys:
    master = data.get("masterKey", "")
    if not isinstance(master, str):
        raise ConfigError(f"{path}: masterKey must be a string")
    raw_functions = data.get("functions") or {}
    if not isinstance(raw_functions, dict):
        raise ConfigError(f"{path}: functions must map function names to their keys")
    return HostKeys(master, _names(data.get("functionKeys"), f"{path}: functionKeys"),
                    _names(data.get("systemKeys"), f"{path}: systemKeys"),
                    {name: _names(keys, f"{path}: functions.{name}") for name, keys in raw_functions.items()})


def load_or_create(data_dir: Path, function_names: Iterable[str] = ()) -> HostKeys:
    """The keys in ``<data_dir>/keys.json``, adding whatever is missing (a new function gets its key the first time
    the host sees it) and writing the file back only when something was added."""
    path = data_dir / KEYS_FILE
    found = _parse(path, _read(path)) if path.exists() else HostKeys("", {}, {}, {})
    master = found.master or _new_key()
    host_keys = {DEFAULT_KEY_NAME: _new_key()} | found.host_keys
    system_keys = {DURABLE_SYSTEM_KEY_NAME: _new_key()} | found.system_keys
    function_keys = dict(found.function_keys)
    known = {name.lower(): name for name in function_keys}
    for function in function_names:
        name = known.setdefault(function.lower(), function)
        function_keys[name] = {DEFAULT_KEY_NAME: _new_key()} | function_keys.get(name, {})
    keys = HostKeys(master, host_keys, system_keys, function_keys)
    if keys != found:
        _write(path, keys)
    return keys


def _write(path: Path, keys: HostKeys) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"masterKey": keys.master, "functionKeys": keys.host_keys, "systemKeys": keys.system_keys,
            "functions": keys.function_keys}
    # Written beside and renamed over, so a reader never sees half a file; created 0600 from the start, so the
    # keys are never readable by others, not even briefly.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=2)
    os.replace(temporary, path)


def read_keys(path: Path) -> HostKeys:
    """The keys of an existing keys file, for clients (``devhost instances``, tests, benchmarks); nothing written."""
    if not path.exists():
        raise ConfigError(f"{path} does not exist: start the functions host once to make its keys")
    keys = _parse(path, _read(path))
    if not keys.master or DURABLE_SYSTEM_KEY_NAME not in keys.system_keys:
        raise ConfigError(f"{path} has no master or Durable system key; start the functions host once to add them")
    return keys
