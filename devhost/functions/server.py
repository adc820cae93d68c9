"""The functions host in-process: ``host = await serve(config)`` ... ``await host.close()``.

One aiohttp application on one event loop serves HTTP triggers under ``/<routePrefix>/`` and the Durable API
under ``/runtime/webhooks/durabletask/``, checking keys as Azure does (auth.py); a second one, on a loopback port
of its own, serves the Durable API under ``/durabletask/`` without keys for the SDK's client (the extension's
``LocalHttpListener``). The engine runs on the same loop.
"""

import errno
import logging
import os
import socket
import sqlite3
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from devhost.durable.client import TaskHubClient
from devhost.durable.engine import Engine, EngineSettings
from devhost.functions.auth import KeyChecker, unauthorized
from devhost.functions.binding import RPC_PATH, WEBHOOK_PATH, client_binding
from devhost.functions.config import HostConfig, HostJson, load_local_settings
from devhost.functions.durable_api import DurableApi
from devhost.functions.errors import FunctionsHostError
from devhost.functions.health import health_routes
from devhost.functions.http_triggers import HttpRoute, HttpTriggerHandler, http_routes
from devhost.functions.invoker import AppWorker
from devhost.functions.keys import KEYS_FILE, HostKeys, load_or_create
from devhost.functions.loader import ACTIVITY, DEFAULT_SCRIPT, ENTITY, HTTP, ORCHESTRATOR, LoadedApp, load_app
from devhost.functions.timers import Timers, timer_schedules

log = logging.getLogger(__name__)


class PortInUseError(FunctionsHostError):
    """The port is taken by another process."""


@dataclass
class RunningHost:
    base_url: str
    app: LoadedApp
    host_json: HostJson
    engine: Engine
    client: TaskHubClient
    # None when keys are not checked (--no-key-check).
    keys: HostKeys | None
    # The durableClient binding value the functions receive (binding.client_binding).
    binding: str
    _runners: tuple[web.AppRunner, ...]
    _worker: AppWorker
    _timers: Timers | None = None

    def describe(self) -> str:
        """The function listing ``func start`` prints."""
        lines = ["Functions:", ""]
        prefix = f"/{self.host_json.route_prefix}" if self.host_json.route_prefix else ""
        for spec in self.app.functions:
            if spec.kind == HTTP:
                methods = ",".join(spec.methods) or "GET,POST,DELETE,HEAD,PATCH,PUT,OPTIONS"
                lines.append(f"        {spec.name}: [{methods}] {self.base_url}{prefix}/{spec.route.strip('/')}")
            else:
                lines.append(f"        {spec.name}: {spec.trigger_type}")
            lines.append("")
        return "\n".join(lines)

    async def close(self) -> None:
        if self._timers is not None:
            await self._timers.close()
        for runner in self._runners:
            await runner.cleanup()
        await self.engine.close()
        self._worker.close()
        await _close_sdk_session()


async def _close_sdk_session() -> None:
    # The SDK keeps a module-global aiohttp session bound to this loop; close it so a later loop (another
    # in-process host, e.g. in tests) gets a fresh one instead of "Event loop is closed".
    from azure.durable_functions.models.utils import http_utils

    await http_utils._close_session()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(f"Port {port} on {host} is unavailable: another process is using it. Choose "
                                 "another with --port.") from None
        raise FunctionsHostError(f"Cannot listen on {host}:{port}: {exc}") from None
    return sock


async def serve(config: HostConfig) -> RunningHost:
    """Load the app, open the task hub and listen. Raises FunctionsHostError with a message for the user."""
    load_local_settings(config.app_root)
    host_json = HostJson.load(config.app_root)
    # Read once, here: local.settings.json may set it, as it does for the Python worker.
    app = load_app(config.app_root, os.environ.get("PYTHON_SCRIPT_FILE_NAME") or DEFAULT_SCRIPT)
    routes = http_routes(app)  # a bad route template stops start-up before anything is opened
    schedules = timer_schedules(app)  # so does a bad timer schedule
    keys = _keys(config, app) if config.check_keys else None
    worker = AppWorker(app, config.worker_threads)
    db_path = config.data_dir / f"{host_json.hub_name}.sqlite"
    engine = Engine(EngineSettings(db_path, host_json.function_timeout, host_json.distributed_tracing), worker)
    sockets: list[socket.socket] = []
    runners: list[web.AppRunner] = []
    try:
        sockets.append(_bind(config.host, config.port))
        # The extension's RPC listener is always on loopback, whatever the host's address (LocalHttpListener).
        sockets.append(_bind("127.0.0.1", 0))
        display_host = f"[{config.host}]" if ":" in config.host else config.host
        base_url = f"http://{display_host}:{sockets[0].getsockname()[1]}"
        rpc_base_url = f"http://127.0.0.1:{sockets[1].getsockname()[1]}{RPC_PATH}/"
        client = TaskHubClient(engine)
        system_key = None if keys is None else keys.durable_system_key
        binding = client_binding(base_url, host_json.hub_name, rpc_base_url, system_key)
        checker = None if keys is None else KeyChecker(keys)
        web_apps = [create_app(routes, worker, client, host_json, binding, checker=checker,
                               part_nonce=config.part_nonce),
                    create_rpc_app(client, host_json, system_key)]
        try:
            await engine.start()
        except (OSError, sqlite3.Error) as exc:
            raise FunctionsHostError(f"Cannot open the task hub {db_path} (--data-dir {config.data_dir}): "
                                     f"{exc}") from None
        for web_app, sock in zip(web_apps, sockets, strict=True):
            runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
            runners.append(runner)
            await runner.setup()
            await web.SockSite(runner, sock).start()
        timers = Timers(app, schedules, config.data_dir, worker, binding)
        timers.start()
    except BaseException:
        for runner in runners:
            await runner.cleanup()
        for sock in sockets:
            sock.close()
        await engine.close()
        worker.close()
        raise
    log.info("functions host listening on %s (%d functions: %d http, %d orchestrators, %d activities, %d entities; "
             "keys %s)", base_url, len(app.functions), len(app.of_kind(HTTP)), len(app.of_kind(ORCHESTRATOR)),
             len(app.of_kind(ACTIVITY)), len(app.of_kind(ENTITY)), "checked" if keys else "not checked")
    return RunningHost(base_url, app, host_json, engine, client, keys, binding, tuple(runners), worker, timers)


def _keys(config: HostConfig, app: LoadedApp) -> HostKeys:
    try:
        return load_or_create(config.data_dir, [spec.name for spec in app.of_kind(HTTP)])
    except OSError as exc:
        raise FunctionsHostError(f"Cannot keep the host's keys in {config.data_dir / KEYS_FILE} (--data-dir "
                                 f"{config.data_dir}): {exc}") from None


def create_app(routes: list[HttpRoute], worker: AppWorker, client: TaskHubClient, host_json: HostJson,
               binding: str, *, checker: KeyChecker | None, part_nonce: str = "") -> web.Application:
    middlewares = [] if checker is None else [_webhook_keys(checker)]
    web_app = web.Application(client_max_size=100 * 1024 * 1024, middlewares=middlewares)
    web_app.add_routes(health_routes(part_nonce))
    system_key = None if checker is None else checker.keys.durable_system_key
    web_app.add_routes(DurableApi(client, host_json.hub_name, system_key).routes())
    triggers = HttpTriggerHandler(routes, worker, host_json.route_prefix, binding, checker)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        sub_path = triggers.owns(request.path)
        if sub_path is None or request.path.lower().startswith(WEBHOOK_PATH):
            return web.json_response({"error": f"nothing is served at {request.path}"}, status=404)
        return await triggers.handle(request, sub_path)

    # (?s): a path with an encoded newline (%0A) is still "not found" in JSON, not aiohttp's plain-text 404.
    web_app.router.add_route("*", "/{path:(?s:.*)}", dispatch)
    return web_app


def create_rpc_app(client: TaskHubClient, host_json: HostJson, system_key: str | None) -> web.Application:
    """The Durable API for the SDK's client, as the extension's loopback RPC listener serves it: no keys."""
    web_app = web.Application(client_max_size=100 * 1024 * 1024)
    web_app.add_routes(DurableApi(client, host_json.hub_name, system_key, base_path=RPC_PATH).routes())
    return web_app


def _webhook_keys(checker: KeyChecker) -> Middleware:
    """Every request under the Durable webhook path needs the durabletask system key or the master key, before any
    route (an unknown one too) is looked at: the host authorizes ``runtime/webhooks/{extensionName}/{*extra}`` as a
    whole (HostController.ExtensionWebHookHandler, policy SystemKeyAuthLevel, in azure-functions-host)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        # ASP.NET routing ignores case, so /RUNTIME/webhooks/... is the webhook too (the Durable API serves it).
        path = request.path.lower()
        if (path == WEBHOOK_PATH or path.startswith(WEBHOOK_PATH + "/")) and not checker.may_use_webhook(request):
            return unauthorized()
        return await handler(request)

    return check
