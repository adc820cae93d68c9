"""The whole offline system as child processes: functions host, Direct Line stand-in and the bot, wired together.

Used by ``python -m devhost up``, the end-to-end tests and the benchmark. Each part runs in its own process, as it
does in Azure, so a test can kill and restart one part without touching the others.

Clean processes: every port is checked before anything starts (a busy one is an error naming it); each part is
tethered to this process (devhost/tether.py), so it dies with it even when this process is SIGKILLed; and readiness
accepts only an answer carrying the nonce drawn for that start (devhost/part_identity.py), so an older part still
answering on the port is never taken for the new one.
"""

import asyncio
import errno
import logging
import os
import secrets
import signal
import socket
import ssl
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from devhost.addresses import reachable_host
from devhost.functions.errors import ConfigError
from devhost.functions.keys import HostKeys
from devhost.functions.keys import load_or_create as load_or_create_keys
from devhost.identity.channel import client_ssl_context
from devhost.part_identity import PART_NONCE_ENV
from devhost.readiness import NotReady, wait_until_ready
from devhost.secrets import SecretsError, StackSecrets, load_or_create
from devhost.stack_auth import StackAuth
from devhost.tether import Tether

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
    # Bot Framework authentication end to end (devhost/stack_auth.py): the identity service on this port, always on
    # loopback; None: auth off (the bot runs with an empty app id, as with the Emulator and no credentials).
    identity_port: int | None = None
    # The Direct Line stand-in's throttling (its --throttle, devhost/directline/throttle.py); None: off.
    throttle: str | None = None
    # With auth: the app registration is SingleTenant (a tenant id is kept with it); MultiTenant otherwise.
    single_tenant: bool = False

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
    port: int
    # The ``devhost up`` option that sets the port, for the busy-port error.
    port_option: str


def log_tail(path: Path, lines: int = 20, max_bytes: int = LOG_TAIL_BYTES) -> list[str]:
    """The last ``lines`` lines of a log, reading at most its last ``max_bytes`` (a log can grow large, and this runs
    on the event loop)."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - max_bytes))
        text = handle.read().decode("utf-8", errors="replace").splitlines()
    # Started mid-file: the first line read is probably cut.
    return text[-lines:] if size <= max_bytes else text[1:][-lines:]


def plan(config: StackConfig, secrets: StackSecrets, keys: HostKeys | None = None,
         auth: StackAuth | None = None) -> list[Part]:
    """The processes and how each one finds the others (``keys``: the functions host's, when it checks them;
    ``auth``: the identity service, with ``--auth``)."""
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
        **({} if auth is None else auth.bot_env()),
        **config.settings,
        "PORT": str(config.bot_port),
    }
    directline_args = ["directline", "--host", config.host, "--port", str(config.directline_port),
                       "--bot-url", config.messages_url, *([] if auth is None else auth.directline_args()),
                       *([] if config.throttle is None else ["--throttle", config.throttle])]
    functions_args = ["functions", "--app-root", str(config.app_root), "--host", config.host,
                      "--port", str(config.functions_port), "--data-dir", str(config.functions_data_dir)]
    if not config.check_keys:
        functions_args.append("--no-key-check")
    # Every part is started through devhost.tether, which ties it to this process.
    parts = [] if auth is None else [Part(
        "identity", Tether.argv("devhost", auth.identity_args()), {**base_env, **auth.identity_env()},
        auth.ready_url, auth.port, "--identity-port",
    )]
    parts += [
        Part(
            "functions",
            Tether.argv("devhost", functions_args),
            functions_env,
            f"{config.functions_url}/devhost/health",
            config.functions_port,
            "--functions-port",
        ),
        Part(
            "directline",
            Tether.argv("devhost", directline_args),
            # The secret goes by environment, not argv: argv is visible to every user in `ps`.
            {**base_env, "DirectLineSecret": secrets.directline_secret},
            f"http://{config.host}:{config.directline_port}/v3/directline/health",
            config.directline_port,
            "--directline-port",
        ),
        Part(
            "bot",
            Tether.argv("bot", ["--host", config.host, "--port", str(config.bot_port)]),
            bot_env,
            f"{config.bot_url}/api/health",
            config.bot_port,
            "--bot-port",
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
    assert config.dashboard_port is not None  # dashboard_url is None otherwise
    return Part(
        "dashboard",
        Tether.argv("devhost", ["dashboard", "--functions-url", functions_url,
                                "--data-dir", str(config.functions_data_dir), "--port", str(config.dashboard_port)]),
        {k: v for k, v in base_env.items() if k != "DurableApiKey"},
        f"{config.dashboard_url}health",
        config.dashboard_port,
        "--dashboard-port",
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


def check_ports(host: str, parts: list[Part]) -> None:
    """StackError naming the first port that is taken (or given to two parts), before anything is started."""
    seen: dict[int, str] = {}
    for part in parts:
        if part.port in seen:
            raise StackError(f"port {part.port} is given to both the {seen[part.port]} part and the {part.name} "
                             f"part; choose another with {part.port_option}")
        seen[part.port] = part.name
    for part in parts:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As the parts bind (aiohttp and the functions host set SO_REUSEADDR): a port in TIME_WAIT is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, part.port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise StackError(f"cannot use port {part.port} on {host} for the {part.name} part: "
                                     f"{error.strerror}") from None
                raise StackError(f"port {part.port} on {host} ({part.port_option}, the {part.name} part) is already "
                                 "in use by another process (an older devhost up?); stop it or choose another port "
                                 f"with {part.port_option}") from None


def exit_description(returncode: int) -> str:
    """How a part ended, for a user: "exited with code 1" or "was killed by SIGKILL"."""
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class Stack:
    """Starts, watches and stops the parts. Use ``async with Stack(config) as stack``."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        auth_on = config.identity_port is not None
        self.secrets = load_or_create(config.data_dir, app_registration=auth_on, single_tenant=config.single_tenant)
        self.keys = stack_keys(config)
        self.auth = (None if config.identity_port is None
                     else StackAuth.prepare(config.data_dir, config.identity_port, self.secrets))
        self.parts = {part.name: part for part in plan(config, self.secrets, self.keys, self.auth)}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: dict[str, IO[bytes]] = {}
        self._nonces: dict[str, str] = {}
        self._tether: Tether | None = None

    async def __aenter__(self) -> "Stack":
        check_ports(self.config.host, list(self.parts.values()))
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
        # Spawning is a fork/exec of a few milliseconds; not worth a thread. It must also stay on this (the event
        # loop's) thread: the parent-death signal fires when the spawning *thread* ends (devhost/tether.py).
        part = self.parts[name]
        if self._tether is None:
            self._tether = Tether()
        nonce = self._nonces[name] = secrets.token_hex(16)
        path = self.log_path(name)
        stdout: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            stdout = self._logs.get(name) or open(path, "ab")  # noqa: SIM115 - closed in stop_all
            self._logs[name] = stdout
        # A session of its own: a Ctrl-C in the terminal reaches only this process, which stops the parts in order.
        self.processes[name] = subprocess.Popen(
            part.argv, env={**part.env, **self._tether.env(), PART_NONCE_ENV: nonce}, cwd=self.config.app_root,
            stdout=stdout, stderr=subprocess.STDOUT if stdout is not None else None, start_new_session=True,
            pass_fds=self._tether.fds,
        )

    async def _wait_ready(self, name: str) -> None:
        try:
            await wait_until_ready(self.parts[name].ready_url, self.processes[name], f"the {name} part",
                                   nonce=self._nonces[name], ssl_context=self._ssl_for(name))
        except NotReady as error:
            raise StackError(f"{error}{self._log_hint(name)}") from None

    def _ssl_for(self, name: str) -> ssl.SSLContext | None:
        # The identity service speaks https with the data dir's CA, which this process does not trust by itself.
        return client_ssl_context(self.auth.tls.ca) if name == "identity" and self.auth is not None else None

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
        for name in ("dashboard", "bot", "directline", "functions", "identity"):
            self.stop(name)
        for handle in self._logs.values():
            handle.close()
        self._logs.clear()
        if self._tether is not None:
            self._tether.close()
            self._tether = None

    @property
    def durable_headers(self) -> dict[str, str]:
        """Headers for the functions host's Durable API (status, list, purge): its durabletask system key."""
        return {} if self.keys is None else {"x-functions-key": self.keys.durable_system_key}

    def dead_parts(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def describe_death(self, name: str) -> str:
        """"the bot part was killed by SIGKILL", with the last lines of its log when it has one."""
        returncode = self.processes[name].returncode
        return f"the {name} part {exit_description(returncode)}{self._log_hint(name)}"
