"""The whole offline system as child processes: functions host, Direct Line stand-in and the bot, wired together.

Used by ``python -m devhost up``, the end-to-end tests and the benchmark. Each part runs in its own process, as it
does in Azure, so a test can kill and restart one part without touching the others.
"""

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from devhost.addresses import reachable_host
from devhost.functions.errors import ConfigError
from devhost.functions.keys import HostKeys
from devhost.functions.keys import load_or_create as load_or_create_keys
from devhost.readiness import NotReady, wait_until_ready
from devhost.secrets import SecretsError, StackSecrets, load_or_create

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_SETTINGS = frozenset({"DirectLineSecret", "OperationSigningKey", "BotStateConnection", "MicrosoftAppPassword",
                             "OperationsKey"})
# The function app's HTTP starter: the bot gets this function's own key, as it would from the Azure Portal.
STARTER_FUNCTION = "start_operation"
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_BYTES = 16 * 1024


class StackError(RuntimeError):
    """A part of the stack failed to start or died."""


@dataclass(frozen=True)
class StackConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    functions_port: int = 7071
    bot_port: int = 3978
    directline_port: int = 8181
    app_root: Path = REPO_ROOT
    # Settings for the function app and the bot (e.g. short operations in tests); they win over defaults.
    settings: Mapping[str, str] = field(default_factory=dict)
    # Where child output goes: a directory of per-part log files, or None to share this process's stdout/stderr.
    log_dir: Path | None = None
    # The functions host checks keys as Azure does; False runs it with --no-key-check, as `func start` runs.
    check_keys: bool = True
    # The dashboard (devhost/dashboard) on this port, always on loopback; None: not started.
    dashboard_port: int | None = None

    def __post_init__(self) -> None:
        # The parts run with cwd=app_root while secrets are read here: a relative directory would name two places.
        object.__setattr__(self, "data_dir", self.data_dir.resolve())
        if self.log_dir is not None:
            object.__setattr__(self, "log_dir", self.log_dir.resolve())

    @property
    def functions_data_dir(self) -> Path:
        """The functions host's data directory: its task hub and its keys (keys.json)."""
        return self.data_dir / "functions"

    @property
    def functions_url(self) -> str:
        return f"http://{self.host}:{self.functions_port}"

    @property
    def bot_url(self) -> str:
        return f"http://{self.host}:{self.bot_port}"

    @property
    def messages_url(self) -> str:
        return f"{self.bot_url}/api/messages"

    @property
    def directline_url(self) -> str:
        return f"http://{self.host}:{self.directline_port}/v3/directline"

    @property
    def dashboard_url(self) -> str | None:
        # Loopback whatever --host says: the dashboard adds the Durable API key to what it passes on.
        return None if self.dashboard_port is None else f"http://127.0.0.1:{self.dashboard_port}/"


@dataclass(frozen=True)
class Part:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_url: str


def log_tail(path: Path, lines: int = 20, max_bytes: int = LOG_TAIL_BYTES) -> list[str]:
    """The last ``lines`` lines of a log, reading at most its last ``max_bytes`` (a log can grow large, and this runs
    on the event loop)."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - max_bytes))
        text = handle.read().decode("utf-8", errors="replace").splitlines()
    # Started mid-file: the first line read is probably cut.
    return text[-lines:] if size <= max_bytes else text[1:][-lines:]


def plan(config: StackConfig, secrets: StackSecrets, keys: HostKeys | None = None) -> list[Part]:
    """The three processes and how each one finds the others (``keys``: the functions host's, when it checks them)."""
    # Each part gets only the secrets it needs, whatever this process's environment holds.
    base_env = {k: v for k, v in os.environ.items() if k not in SECRET_SETTINGS} | {"PYTHONUNBUFFERED": "1"}
    shared = {"OperationSigningKey": secrets.signing_key}
    functions_env = {
        **base_env,
        "DirectLineSecret": secrets.directline_secret,
        "DirectLineEndpoint": config.directline_url,
        **shared,
        **config.settings,
    }
    bot_env = {
        **base_env,
        "OperationsUrl": config.functions_url,
        "BotStateStore": f"sqlite:{config.data_dir / 'bot-state.sqlite'}",
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        # The starter's own function key; a setting may still pin another (a test of a wrong key).
        "OperationsKey": "" if keys is None else keys.function_key(STARTER_FUNCTION),
        **shared,
        **config.settings,
        "PORT": str(config.bot_port),
    }
    python = sys.executable
    functions_argv = [python, "-m", "devhost", "functions", "--app-root", str(config.app_root),
                      "--host", config.host, "--port", str(config.functions_port),
                      "--data-dir", str(config.functions_data_dir)]
    if not config.check_keys:
        functions_argv.append("--no-key-check")
    parts = [
        Part(
            "functions",
            functions_argv,
            functions_env,
            # Keyless: a 401 proves the host is up, and a key in a URL could end up in an error message.
            f"{config.functions_url}/runtime/webhooks/durabletask/instances/?top=1",
        ),
        Part(
            "directline",
            [python, "-m", "devhost", "directline", "--host", config.host, "--port", str(config.directline_port),
             "--bot-url", config.messages_url],
            # The secret goes by environment, not argv: argv is visible to every user in `ps`.
            {**base_env, "DirectLineSecret": secrets.directline_secret},
            f"http://{config.host}:{config.directline_port}/v3/directline/health",
        ),
        Part(
            "bot",
            [python, "-m", "bot", "--host", config.host, "--port", str(config.bot_port)],
            bot_env,
            f"{config.bot_url}/api/health",
        ),
    ]
    if config.dashboard_url is not None:
        parts.append(dashboard_part(config, base_env))
    return parts


def dashboard_part(config: StackConfig, base_env: dict[str, str]) -> Part:
    # It reads the system key from the functions host's keys.json itself: no key in argv or environment (a
    # DurableApiKey in the developer's shell would win over the file). It reads a local file's key only for a
    # loopback URL, so a wildcard bind is reached over loopback.
    functions_url = f"http://{reachable_host(config.host)}:{config.functions_port}"
    return Part(
        "dashboard",
        [sys.executable, "-m", "devhost", "dashboard", "--functions-url", functions_url,
         "--data-dir", str(config.functions_data_dir), "--port", str(config.dashboard_port)],
        {k: v for k, v in base_env.items() if k != "DurableApiKey"},
        f"{config.dashboard_url}health",
    )


def stack_keys(config: StackConfig) -> HostKeys | None:
    """The functions host's keys, made here first when missing so the bot can be handed the starter's key; the
    host adds its other functions' keys to the same file when it starts."""
    if not config.check_keys:
        return None
    try:
        return load_or_create_keys(config.functions_data_dir, [STARTER_FUNCTION])
    except ConfigError as error:
        raise SecretsError(str(error)) from None


class Stack:
    """Starts, watches and stops the parts. Use ``async with Stack(config) as stack``."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.secrets = load_or_create(config.data_dir)
        self.keys = stack_keys(config)
        self.parts = {part.name: part for part in plan(config, self.secrets, self.keys)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}

    async def __aenter__(self) -> "Stack":
        try:
            for name in self.parts:
                await self.start(name)
        except BaseException:
            await asyncio.to_thread(self.stop_all)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # In a thread: stopping waits for each part to exit, and a part finishing its last request may need a
        # server on this very loop (the chat client's connector routes) to answer first.
        await asyncio.to_thread(self.stop_all)

    def log_path(self, name: str) -> Path | None:
        return None if self.config.log_dir is None else self.config.log_dir / f"{name}.log"

    async def start(self, name: str) -> None:
        """Start one part (again) and wait until it answers HTTP."""
        self._spawn(name)
        await self._wait_ready(name)

    def _spawn(self, name: str) -> None:
        # Spawning is a fork/exec of a few milliseconds; not worth a thread.
        part = self.parts[name]
        path = self.log_path(name)
        stdout: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            stdout = self._logs.get(name) or open(path, "ab")  # noqa: SIM115 - closed in stop_all
            self._logs[name] = stdout
        self.processes[name] = subprocess.Popen(
            part.argv, env=part.env, cwd=self.config.app_root, stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None, start_new_session=True,
        )

    async def _wait_ready(self, name: str) -> None:
        try:
            await wait_until_ready(self.parts[name].ready_url, self.processes[name], name)
        except NotReady as error:
            raise StackError(f"{error}{self._log_hint(name)}") from None

    def _log_hint(self, name: str) -> str:
        path = self.log_path(name)
        if path is None or not path.exists():
            return ""
        return f"; last lines of {path}:\n" + "\n".join(log_tail(path))

    def kill(self, name: str) -> None:
        """SIGKILL one part (fault tests): no clean shutdown, as in a crash."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        # The bot first, so nothing it sends in its last moments hits an already stopped service.
        for name in ("dashboard", "bot", "directline", "functions"):
            self.stop(name)
        for handle in self._logs.values():
            handle.close()
        self._logs.clear()

    @property
    def durable_headers(self) -> dict[str, str]:
        """Headers for the functions host's Durable API (status, list, purge): its durabletask system key."""
        return {} if self.keys is None else {"x-functions-key": self.keys.durable_system_key}

    def dead_parts(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]
